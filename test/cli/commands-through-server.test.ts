import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { sendCommand } from '../../src/cli/control-socket.ts';
import { cliDatabase, runCli, startCli, withContextOf } from '../helpers/cli.ts';
import { freePort } from '../helpers/harness.ts';

// On the embedded database a running server holds the data directory; the operator commands of
// another shell are then run by that server (src/cli/control-socket.ts), and print the same.

/** Sends raw bytes to the socket and returns everything it answers before closing. */
function raw(path: string, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let answer = '';
    socket.on('data', (c) => (answer += c));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
  });
}

t.test('with the embedded database, commands from another shell run through the server', async (t) => {
  const db = await cliDatabase(t, 'pglite');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...db.env, CELLS_AUTH_BIND: `127.0.0.1:${port}`, CELLS_AUTH_PUBLIC_URL: url };
  const cli = (args: string[], input?: string) => runCli(args, { env: db.env, input });
  const socketPath = join(db.dataDir, 'pglite', 'cells-auth.sock');

  const server = await startCli(t, { env });
  t.equal(statSync(socketPath).mode & 0o777, 0o600, 'the socket is its owner’s alone');

  const created = await cli(['admin', 'user', 'create', 'bob', '--password-stdin'], 'correct horse battery\n');
  t.same([created.code, created.stderr], [0, ''], 'user create runs');
  t.match(created.stdout, /^created user bob \(/);
  const minted = await cli(['admin', 'user', 'token', '-u', 'bob', '-e', '1h', '-q']);
  t.equal(minted.code, 0, 'a token is minted');
  const token = minted.stdout.trim();
  const verify = () => fetch(`${url}/a/auth/verify`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  t.equal(await verify(), 200, 'and the server takes it');

  const listed = await cli(['admin', 'user', 'tokens', '-u', 'bob', '--json']);
  const [pat] = JSON.parse(listed.stdout) as Array<{ id: string }>;
  t.equal((await cli(['admin', 'token', 'revoke', pat!.id])).stdout, `revoked token ${pat!.id}\n`);
  t.equal(await verify(), 401, 'revoked at once');

  const refused = await cli(['admin', 'user', 'create', 'bob', '--password-stdin'], 'correct horse battery\n');
  t.same([refused.code, refused.stdout, refused.stderr], [1, '', 'cells-auth: a user with login "bob" already exists\n'], 'a refusal reads as it would locally');
  const usage = await cli(['admin', 'user', 'tokens']);
  t.equal(usage.code, 1, 'a usage error is still the shell’s own');
  t.match(usage.stderr, /required option '-u, --user <login>'/);
  t.match((await cli(['clients', 'list'])).stdout, /^ID +SOURCE/, 'clients list');

  // Only the operator commands: never a second server, a migration or a file written by the server.
  for (const argv of [['start'], ['migrate'], ['openapi', '-o', join(db.dataDir, 'x.yaml')], ['config', 'tls', '--mode', 'none']]) {
    const r = await sendCommand(socketPath, { argv, stdin: null, osUser: 'mallory' });
    t.equal(r.code, 1, `${argv[0]}: refused`);
    t.match(r.stderr, /is not run by the server: stop it first\n$/, `${argv[0]}: says why`);
  }
  t.notOk(existsSync(join(db.dataDir, 'x.yaml')), 'nothing was written');
  t.equal(JSON.parse(await raw(socketPath, 'not json\n')).stderr, 'cells-auth: the server did not understand the request\n');
  t.equal(await raw(socketPath, Buffer.alloc(100_000, 'a')), '', 'an oversized request is cut off');
  // A shell that goes away while its command runs (Ctrl-C): the command still runs to its end (as
  // one run locally would past its last statement), and the server carries on.
  await new Promise<void>((resolve) => {
    const gone = createConnection(socketPath, () => {
      gone.write(`${JSON.stringify({ argv: ['admin', 'user', 'create', 'carol'], stdin: null, osUser: userInfo().username })}\n`);
      setTimeout(() => gone.destroy(), 5);
    });
    gone.on('error', () => {});
    gone.on('close', () => resolve());
  });
  t.equal((await cli(['admin', 'user', 'tokens', '-u', 'bob'])).code, 0, 'and the next command runs');
  const migrate = await cli(['migrate']);
  t.match(migrate.stderr, /^cells-auth: the embedded database in .* is in use by process \d+; stop it first/, 'migrate keeps the lock message');
  t.equal(await verify(), 401, 'the server still serves');

  const stopped = await server.stop();
  t.equal(stopped.code, 0, 'the server stops cleanly');
  t.notOk(existsSync(socketPath), 'and its socket goes');

  // The trail names the shell's user, as for a command run locally.
  const osUser = userInfo().username;
  await withContextOf(db, async (ctx) => {
    const events = await ctx.db.db.selectFrom('audit_events').select(['action', 'details']).orderBy('id').execute();
    const cliEvents = events.filter((e) => (e.details as { via?: string }).via === 'cli');
    t.same(
      cliEvents.map((e) => e.action),
      ['user.created', 'token.minted', 'token.revoked', 'user.created'],
      'the changes are audited',
    );
    t.ok(cliEvents.every((e) => (e.details as { osUser?: string }).osUser === osUser), 'with the shell’s user');
  });
  t.equal((await cli(['admin', 'user', 'tokens', '-u', 'bob'])).code, 0, 'with the server gone, commands open the database again');
});

t.test('a database held by a process that serves no commands: the lock’s one line, as before', async (t) => {
  const db = await cliDatabase(t, 'pglite');
  t.equal((await runCli(['migrate'], { env: db.env })).code, 0);
  // This test process is alive and listens on no socket there.
  await writeFile(join(db.dataDir, 'pglite', 'cells-auth.lock'), String(process.pid));
  const r = await runCli(['clients', 'list'], { env: db.env });
  t.same([r.code, r.stdout], [1, '']);
  t.equal(r.stderr, `cells-auth: the embedded database in ${join(db.dataDir, 'pglite')} is in use by process ${process.pid}; stop it first, or run against Postgres (DATABASE_URL)\n`);
});

t.test('a data directory too deep for a socket: the server says so and serves; commands get the lock’s line', async (t) => {
  const db = await cliDatabase(t, 'pglite');
  // Unix socket paths end at 107 bytes on Linux.
  const deep = join(db.dataDir, 'd'.repeat(60), 'e'.repeat(60));
  const port = await freePort();
  const env = { ...db.env, CELLS_AUTH_DATA_DIR: deep, CELLS_AUTH_BIND: `127.0.0.1:${port}`, CELLS_AUTH_PUBLIC_URL: `http://127.0.0.1:${port}` };
  const server = await startCli(t, { env });
  t.match(server.stdout(), /"msg":"operator commands cannot reach this server: stop it to run them"/, 'a warning in the log');
  t.same(readdirSync(join(db.dataDir, 'd'.repeat(60))), ['e'.repeat(60)], 'and no socket at a shortened path above the database');
  const r = await runCli(['clients', 'list'], { env: { CELLS_AUTH_DATA_DIR: deep } });
  t.same([r.code, r.stdout], [1, '']);
  t.match(r.stderr, /^cells-auth: the embedded database in .* is in use by process \d+; stop it first/);
  t.equal((await server.stop()).code, 0);
});
