import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { issueLeaf, type LocalCa } from '../../src/tls/local-ca.ts';
import { prepareTls, TlsError } from '../../src/tls/tls.ts';
import { manualClock } from '../../src/util/clock.ts';
import { rootAndIntermediate } from '../helpers/pki.ts';
import { memoryLogger, peerCertificate, serveRuntime, tempDir } from '../helpers/tls.ts';

const DAY = 86_400_000;

function fileConfig(certFile: string, keyFile: string, publicUrl = 'https://cells.example.test') {
  return loadConfig({ env: {}, overrides: { publicUrl, tls: { mode: 'file', certFile, keyFile } } });
}

/** Writes cert.pem (the leaf and, as asked, the intermediate) and key.pem. */
async function writePair(dir: string, ca: LocalCa, names: string[], chain: 'leaf' | 'leaf+ca' | 'ca+leaf', now = new Date()) {
  const pair = await issueLeaf(ca, names, now, 90);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const cert = chain === 'leaf' ? pair.cert : chain === 'leaf+ca' ? pair.cert + ca.certPem : ca.certPem + pair.cert;
  await writeFile(certFile, cert);
  await writeFile(keyFile, pair.key, { mode: 0o600 });
  return { certFile, keyFile, pair, leaf: new X509Certificate(pair.cert) };
}

t.test('a PEM leaf with its chain after it is served as it is, over ALPN h2 and http/1.1', async (t) => {
  const dir = await tempDir(t);
  const { rootPem, intermediate } = await rootAndIntermediate();
  const { certFile, keyFile, leaf } = await writePair(dir, intermediate, ['cells.example.test'], 'leaf+ca');
  const { log, text } = memoryLogger();
  const runtime = (await prepareTls({ config: fileConfig(certFile, keyFile), log, clock: manualClock() }))!;
  t.equal(runtime.mode, 'file');
  t.equal(runtime.serverOptions.allowHTTP1, true, 'HTTP/1.1 and HTTP/2 share the port');
  const port = await serveRuntime(t, runtime);
  // The client trusts the root only: the handshake succeeds because the intermediate is sent.
  const h2 = await peerCertificate(port, { ca: rootPem, servername: 'cells.example.test' });
  t.equal(h2.cert.serialNumber, leaf.serialNumber);
  t.equal(h2.alpn, 'h2');
  const h1 = await peerCertificate(port, { ca: rootPem, servername: 'cells.example.test', alpn: ['http/1.1'] });
  t.equal(h1.alpn, 'http/1.1');
  t.equal(text(), '', 'no warning for a good pair');

  const alone = await writePair(await tempDir(t), intermediate, ['cells.example.test'], 'leaf');
  const bare = (await prepareTls({ config: fileConfig(alone.certFile, alone.keyFile), log, clock: manualClock() }))!;
  const barePort = await serveRuntime(t, bare);
  await t.rejects(peerCertificate(barePort, { ca: rootPem, servername: 'cells.example.test' }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'without the intermediate the same client fails');
});

t.test('a key that does not match the certificate stops the start with one line', async (t) => {
  const dir = await tempDir(t);
  const { intermediate: ca } = await rootAndIntermediate();
  const a = await writePair(dir, ca, ['cells.example.test'], 'leaf');
  const other = await issueLeaf(ca, ['cells.example.test'], new Date(), 90);
  await writeFile(a.keyFile, other.key);
  const err = await prepareTls({ config: fileConfig(a.certFile, a.keyFile), log: memoryLogger().log, clock: manualClock() }).catch((e: unknown) => e);
  t.ok(err instanceof TlsError);
  t.equal((err as Error).message, `tls.keyFile (${a.keyFile}): this private key does not match the certificate in tls.certFile (${a.certFile}) (the leaf must come first)`);

  // The same when the leaf is not first: the key is checked against the first certificate.
  const b = await writePair(dir, ca, ['cells.example.test'], 'ca+leaf');
  await t.rejects(prepareTls({ config: fileConfig(b.certFile, b.keyFile), log: memoryLogger().log, clock: manualClock() }), { message: /does not match/ });
});

t.test('unreadable or malformed files stop the start with one line naming the setting', async (t) => {
  const dir = await tempDir(t);
  const { intermediate: ca } = await rootAndIntermediate();
  const { certFile, keyFile } = await writePair(dir, ca, ['cells.example.test'], 'leaf');
  const missing = join(dir, 'nope.pem');
  const run = (c: string, k: string) => prepareTls({ config: fileConfig(c, k), log: memoryLogger().log, clock: manualClock() });
  await t.rejects(run(missing, keyFile), { name: 'TlsError', message: `tls.certFile (${missing}): cannot read (ENOENT)` });
  await t.rejects(run(certFile, missing), { name: 'TlsError', message: `tls.keyFile (${missing}): cannot read (ENOENT)` });
  await writeFile(join(dir, 'junk.pem'), 'hello');
  await t.rejects(run(join(dir, 'junk.pem'), keyFile), { message: /tls.certFile .*: no PEM certificate found$/ });
  await t.rejects(run(certFile, join(dir, 'junk.pem')), { message: /tls.keyFile .*: not a PEM private key/ });
  if (process.getuid?.() !== 0) {
    await chmod(keyFile, 0o000);
    await t.rejects(run(certFile, keyFile), { message: /cannot read \(EACCES\)/ });
  }
});

t.test('a certificate for another host, expired, or with a stranger after it is served with a warning', async (t) => {
  const dir = await tempDir(t);
  const { intermediate: ca } = await rootAndIntermediate();
  const { certFile, keyFile } = await writePair(dir, ca, ['other.example.test'], 'leaf', new Date(Date.now() - 100 * DAY));
  await writeFile(certFile, (await readFile(certFile, 'utf8')) + (await rootAndIntermediate()).intermediate.certPem);
  const { log, text } = memoryLogger();
  const runtime = (await prepareTls({ config: fileConfig(certFile, keyFile), log, clock: manualClock() }))!;
  t.equal(await runtime.refresh(), false);
  await runtime.close();
  t.equal(text().split('the certificate expired on').length - 1, 1, 'said once, not at every periodic check');
  t.match(text(), /the certificate expired on/);
  t.match(text(), /certificate #2 did not issue certificate #1; intermediates must follow the leaf in order/);
  t.match(text(), /does not name cells\.example\.test, the public URL's host/);
});

t.test('replaced files are served after a refresh (SIGHUP or the periodic check); a broken pair keeps the old one', async (t) => {
  const dir = await tempDir(t);
  const { rootPem, intermediate: ca } = await rootAndIntermediate();
  const first = await writePair(dir, ca, ['cells.example.test'], 'leaf+ca');
  const runtime = (await prepareTls({ config: fileConfig(first.certFile, first.keyFile), log: memoryLogger().log, clock: manualClock() }))!;
  const port = await serveRuntime(t, runtime);
  t.equal(await runtime.refresh(), false, 'unchanged files: nothing to do');

  const second = await writePair(dir, ca, ['cells.example.test'], 'leaf+ca');
  t.equal(await runtime.refresh(), true);
  const served = await peerCertificate(port, { ca: rootPem, servername: 'cells.example.test' });
  t.equal(served.cert.serialNumber, second.leaf.serialNumber, 'the new certificate is served without a restart');

  await writeFile(second.keyFile, (await issueLeaf(ca, ['x.test'], new Date(), 1)).key);
  await t.rejects(runtime.refresh(), { message: /does not match/ });
  const still = await peerCertificate(port, { ca: rootPem, servername: 'cells.example.test' });
  t.equal(still.cert.serialNumber, second.leaf.serialNumber, 'the server keeps the last good certificate');
});
