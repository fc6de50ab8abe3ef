import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { acmeDir } from '../../src/tls/letsencrypt.ts';
import { manualClock } from '../../src/util/clock.ts';
import { freePort } from '../helpers/harness.ts';
import { startPebble } from '../helpers/pebble.ts';
import { startTestServer } from '../helpers/server.ts';
import { https1, peerCertificate, tempDir } from '../helpers/tls.ts';

const DAY = 86_400_000;

function plainGet(port: number, path: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, body }));
    })
      .once('error', reject)
      .end();
  });
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Pebble's log reaches us through a pipe, a moment after the fact: wait for it to settle. */
async function settled(read: () => string, needle: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    const n = count(read(), needle);
    if (n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 150));
  }
  return last;
}

t.test('letsencrypt mode against Pebble: HTTP-01 validated for real, cached, renewed live, kept across restarts', async (t) => {
  const challengePort = await freePort();
  const pebble = await startPebble(t, { httpPort: challengePort });
  const dataDir = await tempDir(t);
  const port = await freePort();
  const tls = { mode: 'letsencrypt', email: 'ops@example.com', acceptTos: true, directory: pebble.directory, renewDays: 30, httpChallengePort: challengePort };
  const config = { publicUrl: 'https://localhost:PORT', dataDir, tls };
  const clock = manualClock();

  const first = await startTestServer(t, { port, config, clock, acmeCa: pebble.directoryCa });
  const root = await pebble.issuingRoot();
  const validation = 'set VALID by completed challenge';
  t.equal(await settled(pebble.output, validation), 1, 'Pebble validated one challenge');
  t.match(pebble.output(), `Attempting to validate w/ HTTP: http://localhost:${challengePort}/.well-known/acme-challenge/`, 'by HTTP-01 on our responder');

  const served = await peerCertificate(port, { ca: root, servername: 'localhost' });
  t.match(served.cert.issuer, /Pebble Intermediate CA/, 'the served certificate comes from the ACME CA');
  const issuedLine = 'Issued certificate serial';
  t.equal(await settled(pebble.output, issuedLine), 1);
  // Pebble prints the serial in hex with or without a leading zero (078e…, 78e…): compare the numbers.
  const issued = new RegExp(`${issuedLine} ([0-9a-f]+)`).exec(pebble.output())?.[1];
  t.equal(issued && BigInt(`0x${issued}`), BigInt(`0x${served.cert.serialNumber}`), 'the one Pebble issued');
  t.ok(served.cert.checkHost('localhost'));
  t.equal(served.alpn, 'h2');
  const discovery = await https1(`https://localhost:${port}/oidc/.well-known/openid-configuration`, { ca: root });
  t.equal(discovery.status, 200, 'the app answers over the ACME certificate');
  t.equal(JSON.parse(discovery.body).issuer, `https://localhost:${port}/oidc`);

  const cache = acmeDir(dataDir, pebble.directory);
  t.equal((await stat(join(cache, 'account-key.pem'))).mode & 0o777, 0o600, 'the account key is cached, private');
  const cachedCert = new X509Certificate(await readFile(join(cache, 'localhost', 'cert.pem'), 'utf8'));
  t.equal(cachedCert.serialNumber, served.cert.serialNumber, 'the certificate is cached under <dataDir>/acme');

  // The challenge port answers only known tokens and sends everything else to the public URL.
  t.equal((await plainGet(challengePort, '/.well-known/acme-challenge/unknown')).status, 404);
  const redirect = await plainGet(challengePort, '/oidc/.well-known/openid-configuration?x=1');
  t.equal(redirect.status, 308);
  t.equal(redirect.location, `https://localhost:${port}/oidc/.well-known/openid-configuration?x=1`);

  t.equal(await first.server.tls!.refresh(), false, 'a fresh certificate is not renewed');
  t.equal(await settled(pebble.output, issuedLine), 1, 'and the CA is not asked');

  // 29 days before the certificate's end (renewDays is 30), the next check renews it.
  clock.set(new Date(cachedCert.validTo).getTime() - 29 * DAY);
  t.equal(await first.server.tls!.refresh(), true, 'inside the renewal window the certificate is renewed');
  // A new certificate from the CA. Its challenge is not counted: Pebble reuses the account's valid
  // authorization one time in a hundred even with PEBBLE_AUTHZREUSE=0 (wfe.go draws rand.Intn(100)
  // and reuses unless it is greater than the percentage), and then validates nothing.
  t.equal(await settled(pebble.output, issuedLine), 2, 'a new certificate issued by the CA');
  const renewed = await peerCertificate(port, { ca: root, servername: 'localhost' });
  t.not(renewed.cert.serialNumber, served.cert.serialNumber, 'the running server presents the renewed certificate, no restart');
  t.match(first.logs(), /renewing the certificate through ACME/);

  await first.server.close();
  const again = await startTestServer(t, { port, config, acmeCa: pebble.directoryCa });
  const afterRestart = await peerCertificate(port, { ca: root, servername: 'localhost' });
  t.equal(afterRestart.cert.serialNumber, renewed.cert.serialNumber, 'a restart serves the cached certificate');
  t.equal(await settled(pebble.output, issuedLine), 2, 'without asking the CA');
  t.notMatch(again.logs(), /ordering a certificate/);
});

t.test('letsencrypt mode fails the start with one line when no certificate can be had', async (t) => {
  const challengePort = await freePort();
  const pebble = await startPebble(t, { httpPort: challengePort });
  const dataDir = await tempDir(t);
  // Pebble validates on one port while we answer on another: the challenge fails for real.
  const tls = { mode: 'letsencrypt', email: 'ops@example.com', acceptTos: true, directory: pebble.directory, httpChallengePort: await freePort() };
  const err = await startTestServer(t, { config: { publicUrl: 'https://localhost:PORT', dataDir, tls }, acmeCa: pebble.directoryCa }).catch((e: unknown) => e);
  t.type(err, Error);
  t.match((err as Error).message, /^tls: could not obtain a certificate for localhost from https:\/\/127\.0\.0\.1:\d+\/dir: /);
  t.notMatch((err as Error).message, /\n/, 'one line');

  const ipErr = await startTestServer(t, {
    config: { publicUrl: 'https://127.0.0.1:PORT', dataDir, tls: { ...tls, httpChallengePort: challengePort } },
    acmeCa: pebble.directoryCa,
  }).catch((e: unknown) => e);
  t.match((ipErr as Error).message, /^publicUrl: 127\.0\.0\.1 is an IP address; tls.mode letsencrypt needs a DNS name/);
});
