import t from 'tap';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as http2Connect } from 'node:http2';
import pg from 'pg';
import { freshDatabase } from '../helpers/database.ts';
import { signIn } from '../helpers/flow.ts';
import { freePort } from '../helpers/harness.ts';
import { spawnCli, waitFor, type Spawned } from '../helpers/process.ts';
import { tempDir } from '../helpers/tls.ts';

interface Tap {
  teardown(fn: () => unknown): void;
}

const BODY = 'grant_type=authorization_code&code=abc&client_id=cells-sync&redirect_uri=http%3A%2F%2Flocalhost%3A3636';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(t: Tap, extraEnv: (port: number) => Record<string, string> = () => ({})): Promise<{ proc: Spawned; port: number; dataDir: string; databaseUrl: string }> {
  const db = await freshDatabase('postgres');
  t.teardown(() => db.drop());
  const port = await freePort();
  const dataDir = await tempDir(t);
  const proc = spawnCli(t, ['start'], {
    DATABASE_URL: db.url!,
    CELLS_AUTH_DATA_DIR: dataDir,
    CELLS_AUTH_BIND: `127.0.0.1:${port}`,
    CELLS_AUTH_PUBLIC_URL: `http://127.0.0.1:${port}`,
    CELLS_AUTH_ADMIN_PASSWORD: 'admin password 1',
    ...extraEnv(port),
  });
  await waitFor(proc, 'cells-auth is serving');
  return { proc, port, dataDir, databaseUrl: db.url! };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** A finished request whose connection the client keeps open (keep-alive), idle. */
function idleKeepAlive(t: Tap, url: string, ca?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const agent = ca ? new HttpsAgent({ keepAlive: true, ca }) : new Agent({ keepAlive: true });
    t.teardown(() => agent.destroy());
    const req = (ca ? httpsRequest : request)(`${url}/healthz`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.once('error', reject);
    req.end();
  });
}

/** A token request whose body is sent in two halves; `between` runs after the first half. */
function slowPost(port: number, between: () => Promise<void>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/oidc/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': BODY.length } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.once('error', reject);
    req.write(BODY.slice(0, 20));
    between().then(() => req.end(BODY.slice(20)), reject);
  });
}

t.test('SIGTERM lets an in-flight HTTP/1.1 request finish, refuses new connections, closes the pools, exits 0', async (t) => {
  const { proc, port } = await serve(t);
  await idleKeepAlive(t, `http://127.0.0.1:${port}`);
  const res = await slowPost(port, async () => {
    await pause(300); // the request is in flight: headers and half a body are in
    proc.child.kill('SIGTERM');
    await waitFor(proc, 'shutting down');
    await pause(300);
    t.ok(await refused(port), 'no new connection is accepted while closing');
    t.equal(proc.child.exitCode, null, 'the process waits for the request in flight');
  });
  t.equal(res.status, 400, 'the in-flight request got its real answer');
  t.equal(JSON.parse(res.body).error, 'invalid_grant');
  const answered = Date.now();
  const { code, signal } = await proc.exited;
  t.ok(Date.now() - answered < 1500, 'the process ends right after it: idle keep-alive connections do not hold it');
  t.equal(code, 0, 'exit code 0');
  t.equal(signal, null);
  t.match(proc.output(), /"msg":"shutdown complete"/, 'the pools were closed before exiting');
});

t.test('a request that reaches a closing server on an open connection is answered as usual, and the connection closed after it', async (t) => {
  // A browser or a proxy may send its next request on a connection that is still busy when the
  // server starts closing (pipelined behind a slow one here). It gets its real answer — a page for
  // a person, not Fastify's own JSON 503 — with `Connection: close`, so that it reconnects elsewhere.
  const { proc, port } = await serve(t);
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (received += c));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`POST /oidc/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, 20)}`);
  await pause(300);
  proc.child.kill('SIGTERM');
  await waitFor(proc, 'shutting down');
  await pause(300);
  socket.write(`${BODY.slice(20)}GET /oauth2/oob?code=the-code HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await ended;
  const responses = received.split(/(?=HTTP\/1\.1 )/);
  t.equal(responses.length, 2, 'both requests were answered');
  t.match(responses[0], /^HTTP\/1\.1 400 /, 'the slow one got its real answer');
  t.match(responses[1], /^HTTP\/1\.1 200 /, 'the next one too');
  t.match(responses[1], /\r\ncontent-type: text\/html/i, 'as a page');
  t.match(responses[1], /the-code/, 'with the code to copy');
  t.match(responses[1], /\r\nconnection: close\r\n/i, 'and the connection is closed after it');
  t.equal((await proc.exited).code, 0);
});

t.test('SIGTERM lets an in-flight HTTP/2 stream finish (tls.mode self)', async (t) => {
  const { proc, port, dataDir } = await serve(t, (p) => ({ CELLS_AUTH_TLS_MODE: 'self', CELLS_AUTH_PUBLIC_URL: `https://127.0.0.1:${p}` }));
  const ca = await readFile(join(dataDir, 'certs', 'rootCA.pem'), 'utf8');
  // Also open: an idle HTTP/2 session and an idle HTTP/1.1 keep-alive connection on the same port.
  const idle = http2Connect(`https://127.0.0.1:${port}`, { ca });
  t.teardown(() => idle.destroy());
  await new Promise((resolve) => idle.once('connect', resolve));
  await idleKeepAlive(t, `https://127.0.0.1:${port}`, ca);
  const session = http2Connect(`https://127.0.0.1:${port}`, { ca });
  t.teardown(() => session.destroy());
  const stream = session.request({
    ':method': 'POST',
    ':path': '/oidc/oauth2/token',
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(BODY.length),
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (c) => (body += c));
    stream.on('end', () => resolve({ status, body }));
    stream.once('error', reject);
  });
  stream.write(BODY.slice(0, 20));
  await pause(300);
  proc.child.kill('SIGTERM');
  await waitFor(proc, 'shutting down');
  await pause(300);
  t.equal(proc.child.exitCode, null, 'the process waits for the stream in flight');
  stream.end(BODY.slice(20));
  const res = await response;
  t.equal(res.status, 400, 'the in-flight stream got its real answer');
  t.equal(JSON.parse(res.body).error, 'invalid_grant');
  const answered = Date.now();
  t.equal((await proc.exited).code, 0);
  t.ok(Date.now() - answered < 1500, 'the process ends right after it: idle sessions and connections do not hold it');
  t.match(proc.output(), /"msg":"shutdown complete"/);
});

t.test('a second SIGTERM exits at once, without waiting for requests in flight', async (t) => {
  const { proc, port } = await serve(t);
  let signals!: Promise<number>;
  const outcome = await slowPost(port, async () => {
    await pause(300);
    signals = (async () => {
      proc.child.kill('SIGTERM');
      await waitFor(proc, 'shutting down');
      const second = Date.now();
      proc.child.kill('SIGTERM');
      await proc.exited;
      return Date.now() - second;
    })();
    await signals;
  }).catch((err: unknown) => err);
  t.type(outcome, Error, 'the request in flight was cut');
  const exitedAfterMs = await signals;
  t.ok(exitedAfterMs < 2000, `exited ${exitedAfterMs} ms after the second signal`);
  t.equal((await proc.exited).code, 1, 'exit code 1: work was abandoned');
  t.match(proc.output(), /second signal: exiting now/);
  t.notMatch(proc.output(), /shutdown complete/);
});

t.test('sign-ins audited just before SIGTERM are in the trail after the exit (the queue is written on close)', async (t) => {
  const { proc, port, databaseUrl } = await serve(t);
  const url = `http://127.0.0.1:${port}`;
  const failed = await signIn(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', login: 'admin', password: 'not the password' }).catch((e: Error) => e);
  t.type(failed, Error, 'a wrong password does not sign in');
  await signIn(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', login: 'admin', password: 'admin password 1' });
  proc.child.kill('SIGTERM');
  t.equal((await proc.exited).code, 0);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  t.teardown(() => client.end());
  const { rows } = await client.query<{ action: string }>(`select action from audit_events where action like 'login.%' order by id`);
  t.same(rows.map((r) => r.action), ['login.failure', 'login.success']);
});
