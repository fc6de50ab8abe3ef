import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/harness.ts';
import { startInstance } from '../helpers/instances.ts';

// A client that starts a request and then goes quiet (Slowloris) is cut off by the socket timeout,
// measured on the real server process with a short setting.
t.test('a slow client is timed out', async (t) => {
  const db = await freshDatabase('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'cells-auth-slow-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, 'http:\n  connectionTimeoutSeconds: 2\n  requestTimeoutSeconds: 2\n');
  const port = await freePort();
  const instance = await startInstance({
    port,
    env: { DATABASE_URL: db.url!, CELLS_AUTH_PUBLIC_URL: `http://127.0.0.1:${port}`, CELLS_AUTH_CONFIG: configFile, CELLS_AUTH_ADMIN_PASSWORD: 'first-admin-password' },
  });
  t.teardown(async () => {
    await instance.stop();
    await db.drop();
  });

  const started = Date.now();
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      // Half a request line and one header, then nothing.
      socket.write('POST /oidc/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(Date.now() - started));
    setTimeout(() => reject(new Error('the server kept the slow socket open for 15 s')), 15_000).unref();
  });
  t.ok(closedAfter >= 1500 && closedAfter < 10_000, `the socket was closed after ${closedAfter} ms`);
  const ok = await fetch(`${instance.url}/healthz`);
  t.equal(ok.status, 200, 'the server still serves others');

  // A proxy's pooled connection, idle between requests, is kept for http.keepAliveTimeoutSeconds
  // (65 s by default: above the proxies' own 60 s), not cut at the slow-client timeout of 2 s here.
  const idle = net.connect(port, '127.0.0.1');
  idle.on('error', () => {});
  const replies: string[] = [];
  let closed = false;
  idle.on('data', (d: Buffer) => replies.push(d.toString('latin1')));
  idle.on('close', () => (closed = true));
  const ask = async () => {
    const before = replies.length;
    idle.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    for (let i = 0; i < 100 && replies.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    return replies.slice(before).join('');
  };
  t.match(await ask(), /^HTTP\/1\.1 200 /, 'a request on a keep-alive connection');
  await new Promise((r) => setTimeout(r, 6000));
  t.notOk(closed, 'idle for three times the slow-client timeout, and past Node’s own 5 s, the connection is still open');
  t.match(await ask(), /^HTTP\/1\.1 200 /, 'and it serves the next request');
  idle.destroy();
});
