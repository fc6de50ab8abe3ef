import t from 'tap';
import { cliDatabase, runCli, startCli, withContextOf, type CliDatabase } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';
import { signIn } from '../helpers/flow.ts';
import { freePort } from '../helpers/harness.ts';

async function serveEnv(db: CliDatabase): Promise<{ env: Record<string, string>; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return { url, env: { ...db.env, CELLS_AUTH_BIND: `127.0.0.1:${port}`, CELLS_AUTH_PUBLIC_URL: url } };
}

/** The JSON log lines a run wrote (pino writes them to stdout); the one-time password block is not one. */
function logLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('{'));
}

const logins = (db: CliDatabase) =>
  withContextOf(db, async (ctx) => (await ctx.db.db.selectFrom('users').select('login').orderBy('login').execute()).map((r) => r.login));

const canSignIn = async (url: string, login: string, password: string) =>
  Boolean((await signIn(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', login, password })).code);

for (const kind of dbKinds()) {
  t.test(`first start: an admin with a one-time password, printed once; a second start creates nothing [${kind}]`, async (t) => {
    // The data directory does not exist yet: the first start creates it (initdb), as on a new machine.
    const db = await cliDatabase(t, kind, { initdb: true });
    const { env, url } = await serveEnv(db);

    const first = await startCli(t, { env });
    const out = first.stdout();
    const password = /^ {2}password: (\S+)$/m.exec(out)?.[1] ?? '';
    t.match(out, /^Created the first administrator\.\n {2}login: {4}admin\n/m, 'says so, with the login');
    t.equal(password.length, 24, 'and a generated password');
    t.ok(await canSignIn(url, 'admin', password), 'the printed password signs in');
    const stopped = await first.stop();
    t.equal(stopped.code, 0, 'SIGTERM: a clean exit');
    const all = stopped.stdout + stopped.stderr;
    t.equal(all.split(password).length, 2, 'the password appears once in all the output');
    const lines = logLines(stopped.stdout);
    t.ok(lines.length > 2, 'there are JSON log lines');
    t.ok(lines.every((l) => JSON.parse(l) && !l.includes(password)), 'none of them holds the password');

    const second = await startCli(t, { env });
    const again = await second.stop();
    t.equal(again.code, 0);
    t.notMatch(again.stdout, /Created the first administrator|password/i, 'a second start creates and prints nothing');
    t.same(await logins(db), ['admin'], 'one user');
  });

  t.test(`first start with CELLS_AUTH_ADMIN_PASSWORD: that password, never printed [${kind}]`, async (t) => {
    const db = await cliDatabase(t, kind);
    const { env, url } = await serveEnv(db);
    const chosen = 'operator chose this one';
    const run = await startCli(t, { env: { ...env, CELLS_AUTH_ADMIN_PASSWORD: chosen } });
    t.ok(await canSignIn(url, 'admin', chosen), 'the configured password signs in');
    const done = await run.stop();
    t.notMatch(done.stdout, /Created the first administrator|password: /, 'no password block');
    t.notOk((done.stdout + done.stderr).includes(chosen), 'the password is printed nowhere');
    t.ok(logLines(done.stdout).some((l) => JSON.parse(l).msg === 'created the first administrator with CELLS_AUTH_ADMIN_PASSWORD'), 'the log says what happened');
  });

  t.test(`no first admin when users exist already [${kind}]`, async (t) => {
    const db = await cliDatabase(t, kind);
    const { env } = await serveEnv(db);
    t.equal((await runCli(['admin', 'user', 'create', 'ops', '--password-stdin'], { env: db.env, input: 'ops password 1' })).code, 0);
    const run = await startCli(t, { env });
    const done = await run.stop();
    t.notMatch(done.stdout, /Created the first administrator/);
    t.same(await logins(db), ['ops'], 'no admin was added');
  });
}
