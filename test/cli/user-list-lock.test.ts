import { sql } from 'kysely';
import t from 'tap';
import { cliDatabase, expectCliFailure, runCli, withContextOf } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';

// The command-line twins of GET /a/admin/users and POST /a/admin/users/{login}/lock.

for (const kind of dbKinds()) {
  t.test(`admin user list and lock [${kind}]`, async (t) => {
    const db = await cliDatabase(t, kind);
    const cli = (args: string[], input?: string) => runCli(args, { env: db.env, input });
    t.equal((await cli(['admin', 'user', 'list'])).stdout, 'no users\n', 'an empty database says so');
    t.equal((await cli(['admin', 'user', 'create', 'dora', '--email', 'dora@example.com', '--admin', '--password-stdin'], 'a long password')).code, 0);
    t.equal((await cli(['admin', 'user', 'create', 'eve', '--password-stdin'], 'a long password')).code, 0);

    const listed = await cli(['admin', 'user', 'list']);
    t.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    t.match(lines[0], /^LOGIN +ID +ROLES +LOCKED +FAILED +CREATED +E-MAIL$/, 'a header');
    t.match(lines[1], /^dora +[0-9a-f-]{36} +admin +no +0 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +dora@example\.com$/, 'dora, by login');
    t.match(lines[2], /^eve +[0-9a-f-]{36} +- +no +0 /, 'then eve');
    t.notMatch(listed.stdout, /long password|argon2/, 'never a password or its hash');
    const json = JSON.parse((await cli(['admin', 'user', 'list', '--json', '--search', 'example.com'])).stdout) as Array<{ login: string; locked: boolean }>;
    t.same(json.map((u) => u.login), ['dora'], '--search matches the e-mail; --json');
    t.equal((await cli(['admin', 'user', 'list', '--search', 'zz'])).stdout, 'no user matches "zz"\n');

    // Eve signed in somewhere: a session and a refresh token, as the provider stores them.
    await withContextOf(db, async (ctx) => {
      const eveId = (await ctx.users.findByLogin('eve'))!.id;
      await ctx.db.db
        .insertInto('oidc_models')
        .values(['Session', 'RefreshToken'].map((model) => ({ model, id: `${model}-${eveId}`, payload: JSON.stringify({ accountId: eveId }) })))
        .execute();
    });
    const locked = await cli(['admin', 'user', 'lock', 'eve']);
    t.equal(locked.code, 0, locked.stderr);
    t.match(locked.stdout, /^locked user eve \([0-9a-f-]{36}\); ended 2 sessions, grants and tokens/);
    await withContextOf(db, async (ctx) => {
      const eve = (await ctx.users.findByLogin('eve'))!;
      t.equal(eve.locked, true, 'locked');
      t.notOk((await ctx.users.authenticate('eve', 'a long password')).ok, 'her password no longer signs in');
      const left = await ctx.db.db.selectFrom('oidc_models').select('model').where(sql<string>`payload ->> 'accountId'`, '=', eve.id).execute();
      t.same(left, [], 'her session and refresh token are gone');
      const audited = await ctx.db.db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'user.locked').execute();
      t.match(audited, [{ details: { via: 'cli', login: 'eve', providerRecords: 2 } }], 'audited as a CLI change');
    });
    t.match((await cli(['admin', 'user', 'list', '--search', 'eve'])).stdout, /^eve +\S+ +- +yes /m, 'the list shows the lock');
    expectCliFailure(t, await cli(['admin', 'user', 'lock', 'nobody']), /no user with login "nobody"/, 'an unknown login');
    t.equal((await cli(['admin', 'user', 'unlock', 'eve'])).code, 0, 'unlock lets her back in');
  });
}
