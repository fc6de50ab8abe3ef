import t from 'tap';
import { execFile } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { loadConfig } from '../../src/config/load.ts';
import { loadOrCreateRootCa } from '../../src/tls/local-ca.ts';
import { prepareTls, TlsError } from '../../src/tls/tls.ts';
import { manualClock } from '../../src/util/clock.ts';
import { memoryLogger, peerCertificate, serveRuntime, tempDir } from '../helpers/tls.ts';

const run = promisify(execFile);

function selfConfig(dataDir: string, publicUrl: string, hosts: string[] = []) {
  return loadConfig({ env: {}, overrides: { dataDir, publicUrl, tls: { mode: 'self', hosts } } });
}

t.test('a root CA is created once, in mkcert layout, and a leaf names the host and tls.hosts', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = memoryLogger();
  const config = selfConfig(dataDir, 'https://auth.example.test:8443', ['cells.local', '127.0.0.1', '::1']);
  const runtime = (await prepareTls({ config, log, clock: manualClock() }))!;
  t.equal(runtime.mode, 'self');
  t.match(runtime.notice.join('\n'), `CAROOT=${join(dataDir, 'certs')} mkcert -install`, 'the start tells how to trust the root');

  const certs = join(dataDir, 'certs');
  const rootPem = await readFile(join(certs, 'rootCA.pem'), 'utf8');
  const keyPem = await readFile(join(certs, 'rootCA-key.pem'), 'utf8');
  t.match(keyPem, /^-----BEGIN PRIVATE KEY-----/, 'the root key is PKCS#8, which mkcert reads');
  t.equal((await stat(join(certs, 'rootCA-key.pem'))).mode & 0o777, 0o600, 'the root key is private');
  const root = new X509Certificate(rootPem);
  t.ok(root.ca, 'the root is a CA');
  const rootExt = new x509.X509Certificate(rootPem).getExtension(x509.BasicConstraintsExtension);
  t.equal(rootExt?.pathLength, 0, 'it may only sign leaves');

  const leaf = new X509Certificate(String(runtime.serverOptions.cert));
  t.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey), 'the leaf is signed by the root');
  t.equal(leaf.subjectAltName, 'DNS:auth.example.test, DNS:cells.local, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1', 'DNS names and IP addresses are proper SANs');
  t.notOk(leaf.ca);

  const port = await serveRuntime(t, runtime);
  const { cert } = await peerCertificate(port, { ca: rootPem, servername: 'cells.local' });
  t.equal(cert.serialNumber, leaf.serialNumber, 'a client trusting the root accepts the served certificate');
  const curl = await run('curl', ['-sS', '--cacert', join(certs, 'rootCA.pem'), '--resolve', `auth.example.test:${port}:127.0.0.1`, `https://auth.example.test:${port}/`]);
  t.equal(curl.stdout, 'ok', 'curl --cacert <root> verifies the chain and the host name');
  await t.rejects(run('curl', ['-sS', `https://127.0.0.1:${port}/`]), 'without the root, curl refuses it');
});

t.test('a restart keeps the root and the leaf; new names get a new leaf from the same root', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = memoryLogger();
  const first = (await prepareTls({ config: selfConfig(dataDir, 'https://localhost:8443'), log, clock: manualClock() }))!;
  await first.close();
  const rootBefore = await readFile(join(dataDir, 'certs', 'rootCA.pem'), 'utf8');

  const again = (await prepareTls({ config: selfConfig(dataDir, 'https://localhost:8443'), log, clock: manualClock() }))!;
  await again.close();
  t.equal(again.serverOptions.cert, first.serverOptions.cert, 'the same leaf is served after a restart');

  const more = (await prepareTls({ config: selfConfig(dataDir, 'https://localhost:8443', ['10.1.2.3']), log, clock: manualClock() }))!;
  await more.close();
  t.not(more.serverOptions.cert, first.serverOptions.cert, 'a new name means a new leaf');
  t.equal(await readFile(join(dataDir, 'certs', 'rootCA.pem'), 'utf8'), rootBefore, 'the root stays');
  const root = new X509Certificate(rootBefore);
  t.ok(new X509Certificate(String(more.serverOptions.cert)).verify(root.publicKey), 'signed by the kept root');
});

t.test('a leaf near its end is replaced while serving, without a restart', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = memoryLogger();
  // The first leaf is made 340 days in the past, so that "now" is 25 days before its end and the
  // replacement is valid for a real TLS client.
  const clock = manualClock(Date.now() - 340 * 86_400_000);
  const runtime = (await prepareTls({ config: selfConfig(dataDir, 'https://localhost:8443'), log, clock }))!;
  const port = await serveRuntime(t, runtime);
  const rootPem = await readFile(join(dataDir, 'certs', 'rootCA.pem'), 'utf8');
  const before = new X509Certificate(String(runtime.serverOptions.cert));
  t.equal(await runtime.refresh(), false, 'nothing to do while the leaf is young');
  clock.set(Date.now());
  t.equal(await runtime.refresh(), true, '25 days before its end the leaf is issued again');
  const after = await peerCertificate(port, { ca: rootPem, servername: 'localhost' });
  t.not(after.cert.serialNumber, before.serialNumber, 'the running server presents the new leaf');
});

t.test('two instances starting together on one data directory agree on one root', async (t) => {
  const dir = join(await tempDir(t), 'certs');
  const now = new Date();
  const cas = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateRootCa(dir, now)));
  t.equal(new Set(cas.map((c) => c.certPem)).size, 1);
});

t.test("a root mkcert made (RSA) in the directory is used as it is", async (t) => {
  const dir = join(await tempDir(t), 'certs');
  const keys = (await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'O=mkcert development CA, CN=mkcert test',
    keys,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'rootCA.pem'), root.toString('pem'));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  await writeFile(join(dir, 'rootCA-key.pem'), `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`);

  const config = selfConfig(join(dir, '..'), 'https://localhost:8443');
  const runtime = (await prepareTls({ config, log: memoryLogger().log, clock: manualClock() }))!;
  await runtime.close();
  const leaf = new X509Certificate(String(runtime.serverOptions.cert));
  t.ok(leaf.verify(new X509Certificate(root.toString('pem')).publicKey), 'the leaf is signed by the mkcert root');
});

t.test('boot errors are one line naming the setting or file', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = memoryLogger();
  await t.rejects(prepareTls({ config: selfConfig(dataDir, 'http://localhost:8080'), log, clock: manualClock() }), {
    name: 'TlsError',
    message: /^publicUrl: must be an https:\/\/ URL when tls.mode is self/,
  });
  const certs = join(dataDir, 'certs');
  await mkdir(certs, { recursive: true });
  const stranger = await loadOrCreateRootCa(await tempDir(t), new Date());
  await writeFile(join(certs, 'rootCA.pem'), stranger.certPem);
  await writeFile(join(certs, 'rootCA-key.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const err = await prepareTls({ config: selfConfig(dataDir, 'https://localhost:8443'), log, clock: manualClock() }).catch((e: unknown) => e);
  t.ok(err instanceof TlsError);
  t.match((err as Error).message, /rootCA-key\.pem: does not match .*rootCA\.pem$/, 'a root key that is not the root\'s is named');
  t.notMatch((err as Error).message, /\n/);
});
