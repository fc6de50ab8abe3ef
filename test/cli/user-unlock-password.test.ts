import { sql } from 'kysely';
import t from 'tap';
import type { CoreContext } from '../../src/core-context.ts';
import { cliDatabase, runCli, withContextOf } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

for (const kind of dbKinds()) {
  t.test(`admin user unlock and set-password [${kind}]`, async (t) => {
    const db = await cliDatabase(t, kind);
    t.equal((await runCli(['admin', 'user', 'create', 'carol', '--password-stdin'], { env: db.env, input: 'first password' })).code, 0);
    await withContextOf(db, async ({ users }) => {
      for (let i = 0; i < 10; i++) await users.authenticate('carol', 'not the password');
      t.equal((await users.findByLogin('carol'))?.locked, true, 'locked by ten failures');
    });

    // What the old password signed in (here a session and a refresh token, as the provider stores
    // them) ends with it; --keep-sessions keeps it.
    const signedIn = (carolId: string) =>
      ['Session', 'RefreshToken'].map((model) => ({ model, id: `${model}-${carolId}`, payload: JSON.stringify({ accountId: carolId }) }));
    const providerRows = (ctx: CoreContext, carolId: string) =>
      ctx.db.db.selectFrom('oidc_models').select('model').where(sql<string>`payload ->> 'accountId'`, '=', carolId).execute();
    await withContextOf(db, async (ctx) => {
      await ctx.db.db.insertInto('oidc_models').values(signedIn((await ctx.users.findByLogin('carol'))!.id)).execute();
    });
    const piped = await runCli(['admin', 'user', 'set-password', 'carol', '--password-stdin'], { env: db.env, input: 'second password\n' });
    t.equal(piped.code, 0, piped.stderr);
    t.match(piped.stdout, /^changed the password of carol/);
    t.match(piped.stdout, /^ended what the old password signed in: 2 sessions, grants and tokens \(personal access tokens stay\)$/m);
    await withContextOf(db, async (ctx) => {
      const carolId = (await ctx.users.findByLogin('carol'))!.id;
      t.same(await providerRows(ctx, carolId), [], 'the session and the refresh token are gone');
      await ctx.db.db.insertInto('oidc_models').values(signedIn(carolId)).execute();
    });
    const kept = await runCli(['admin', 'user', 'set-password', 'carol', '--password-stdin', '--keep-sessions'], { env: db.env, input: 'second password\n' });
    t.equal(kept.code, 0, kept.stderr);
    t.notMatch(kept.stdout, /ended/);
    await withContextOf(db, async (ctx) => {
      t.equal((await providerRows(ctx, (await ctx.users.findByLogin('carol'))!.id)).length, 2, '--keep-sessions keeps them');
    });
    t.match(piped.stdout, /still locked: run `cells-auth admin user unlock carol`/, 'says the lock stays');
    t.notMatch(piped.stdout, /second password/);

    const unlock = await runCli(['admin', 'user', 'unlock', 'carol'], { env: db.env });
    t.equal(unlock.code, 0, unlock.stderr);
    t.match(unlock.stdout, new RegExp(`^unlocked user carol \\(${UUID}\\)\\n$`));

    await withContextOf(db, async ({ users }) => {
      const row = await users.findByLogin('carol');
      t.equal(row?.locked, false);
      t.equal(row?.failed_logins, 0, 'the failure count starts again');
      t.notOk((await users.authenticate('carol', 'first password')).ok, 'the old password is gone');
      t.ok((await users.authenticate('carol', 'second password')).ok, 'the new one signs in');
    });

    const generated = await runCli(['admin', 'user', 'set-password', 'carol'], { env: db.env });
    t.equal(generated.code, 0, generated.stderr);
    const password = /^password: (\S+)$/m.exec(generated.stdout)?.[1] ?? '';
    t.equal(password.length, 24, 'without --password-stdin a password is generated and printed');
    await withContextOf(db, async ({ users }) => t.ok((await users.authenticate('carol', password)).ok));

    for (const args of [['unlock', 'nobody'], ['set-password', 'nobody', '--password-stdin']]) {
      const missing = await runCli(['admin', 'user', ...args], { env: db.env, input: 'whatever password' });
      t.equal(missing.code, 1, `${args[0]} of an unknown login fails`);
      t.equal(missing.stderr, 'cells-auth: no user with login "nobody"\n');
    }
    const short = await runCli(['admin', 'user', 'set-password', 'carol', '--password-stdin'], { env: db.env, input: 'short' });
    t.equal(short.code, 1);
    t.equal(short.stderr, 'cells-auth: password: must be at least 8 characters\n');
  });
}
