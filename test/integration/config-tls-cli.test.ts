import t from 'tap';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { issueLeaf, loadOrCreateRootCa } from '../../src/tls/local-ca.ts';
import { freshDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/harness.ts';
import { BIN, spawnCli, waitFor } from '../helpers/process.ts';
import { peerCertificate, tempDir } from '../helpers/tls.ts';

const UP = '\x1b[A';

t.test('the arrow-key menu in a real terminal writes the choice', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cells.yaml');
  await writeFile(file, '# kept comment\nlog:\n  level: warn\n');
  // script(1) gives the command a pseudo-terminal, as a person at a terminal would have.
  const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} --config ${file} config tls`, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, TERM: 'xterm' },
  });
  t.teardown(() => child.kill('SIGKILL'));
  let screen = '';
  child.stdout.on('data', (c) => (screen += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const shown = async (text: string) => {
    for (let i = 0; i < 200 && !screen.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    if (!screen.includes(text)) throw new Error(`the terminal never showed "${text}":\n${screen}`);
  };
  await shown('How should cells-auth serve HTTPS?');
  t.match(screen, 'No TLS (plain HTTP)');
  // The cursor starts on the current mode (none, the last entry); three times up reaches "Self-signed".
  child.stdin.write(UP + UP + UP);
  await shown('A root CA kept under <data>/certs');
  child.stdin.write('\r');
  await shown('Extra host names');
  child.stdin.write('cells.local 10.0.0.7\r');
  await shown('Public URL');
  child.stdin.write('\r'); // accept the offered https:// URL
  t.equal(await exited, 0);
  t.match(screen, `wrote tls.mode self and publicUrl https://localhost:8080 to ${file}`);
  const text = await readFile(file, 'utf8');
  t.match(text, '# kept comment');
  t.same(parse(text), { log: { level: 'warn' }, publicUrl: 'https://localhost:8080', tls: { mode: 'self', hosts: ['cells.local', '10.0.0.7'] } });
});

t.test('flags write the file the next start serves from', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cells.yaml');
  const port = await freePort();
  const set = spawnCli(t, ['--config', file, 'config', 'tls', '--mode', 'self', '--host', 'cells.local', '--host', '10.0.0.7', '--public-url', `https://127.0.0.1:${port}`], {});
  t.equal((await set.exited).code, 0, set.output());
  t.match(set.output(), 'CAROOT=');

  const db = await freshDatabase('postgres');
  t.teardown(() => db.drop());
  const server = spawnCli(t, ['--config', file, 'start'], {
    DATABASE_URL: db.url!,
    CELLS_AUTH_DATA_DIR: join(dir, 'data'),
    CELLS_AUTH_BIND: `127.0.0.1:${port}`,
    CELLS_AUTH_ADMIN_PASSWORD: 'admin password 1',
  });
  await waitFor(server, 'cells-auth is serving');
  t.match(server.output(), `CAROOT=${join(dir, 'data', 'certs')} mkcert -install`, 'the start prints how to trust the root');
  const root = await readFile(join(dir, 'data', 'certs', 'rootCA.pem'), 'utf8');
  const { cert } = await peerCertificate(port, { ca: root, servername: 'cells.local' });
  t.equal(cert.subjectAltName, 'IP Address:127.0.0.1, DNS:cells.local, IP Address:10.0.0.7');
  server.child.kill('SIGTERM');
  t.equal((await server.exited).code, 0);
});

t.test('failures are one line on stderr, exit 1, nothing written', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cells.yaml');
  await writeFile(file, 'publicUrl: https://cells.example.test\n');

  const noTty = spawnCli(t, ['--config', file, 'config', 'tls'], {});
  noTty.child.stdin!.end();
  t.equal((await noTty.exited).code, 1);
  t.equal(noTty.output(), 'cells-auth: no terminal for the menu: pass --mode none|file|self|letsencrypt and its flags (see config tls --help)\n');

  const ca = await loadOrCreateRootCa(join(dir, 'ca'), new Date());
  const a = await issueLeaf(ca, ['cells.example.test'], new Date(), 30);
  const b = await issueLeaf(ca, ['cells.example.test'], new Date(), 30);
  await writeFile(join(dir, 'cert.pem'), a.cert);
  await writeFile(join(dir, 'key.pem'), b.key);
  const mismatch = spawnCli(t, ['--config', file, 'config', 'tls', '--mode', 'file', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')], {});
  t.equal((await mismatch.exited).code, 1);
  t.match(mismatch.output(), /^cells-auth: .*key\.pem: this private key does not match the certificate in .*cert\.pem \(the leaf must come first\)\n$/);

  const tos = spawnCli(t, ['--config', file, 'config', 'tls', '--mode', 'letsencrypt', '--email', 'ops@example.test'], {});
  t.equal((await tos.exited).code, 1);
  t.match(tos.output(), /^cells-auth: --mode letsencrypt needs --accept-tos: [^\n]*\n$/);

  const http = spawnCli(t, ['--config', join(dir, 'other.yaml'), 'config', 'tls', '--mode', 'self'], {});
  t.equal((await http.exited).code, 1);
  t.equal(http.output(), 'cells-auth: tls.mode self needs an https:// public URL (it is http://localhost:8080): add --public-url https://…\n');

  t.equal(await readFile(file, 'utf8'), 'publicUrl: https://cells.example.test\n', 'the file is untouched');

  const ok = spawnCli(t, ['--config', file, 'config', 'tls', '--mode', 'file', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'cert.pem')], {});
  t.equal((await ok.exited).code, 1, 'a certificate given as its own key is refused too');
});
