import { sql } from 'kysely';
import t from 'tap';
import { cliDatabase, expectCliFailure, runCli, withContextOf } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';

// The command-line twin of DELETE /a/admin/users/{login}: asked for with --yes, it takes the
// account, its personal access tokens and what the provider holds for it, and is audited.

for (const kind of dbKinds()) {
  t.test(`admin user delete [${kind}]`, async (t) => {
    const db = await cliDatabase(t, kind);
    const cli = (args: string[], input?: string) => runCli(args, { env: db.env, input });
    t.equal((await cli(['admin', 'user', 'create', 'frank', '--password-stdin'], 'a long password')).code, 0);
    t.equal((await cli(['admin', 'user', 'create', 'grace', '--password-stdin'], 'a long password')).code, 0);
    const minted = await cli(['admin', 'user', 'token', '-u', 'frank', '-e', '1h', '-q']);
    t.equal(minted.code, 0, minted.stderr);
    const pat = minted.stdout.trim();
    let frankId = '';
    await withContextOf(db, async (ctx) => {
      frankId = (await ctx.users.findByLogin('frank'))!.id;
      await ctx.db.db.insertInto('oidc_models').values({ model: 'Session', id: `Session-${frankId}`, payload: JSON.stringify({ accountId: frankId }) }).execute();
      t.ok(await ctx.pats.verify(pat), 'his token works before');
    });

    expectCliFailure(t, await cli(['admin', 'user', 'delete', 'frank']), /deleting a user cannot be undone: add --yes to delete "frank" with its tokens and sessions/, 'without --yes');
    await withContextOf(db, async (ctx) => t.ok(await ctx.users.findByLogin('frank'), 'nothing was deleted without --yes'));

    const deleted = await cli(['admin', 'user', 'delete', 'frank', '--yes']);
    t.equal(deleted.code, 0, deleted.stderr);
    t.match(deleted.stdout, /^deleted user frank \([0-9a-f-]{36}\); ended 1 sessions, grants and tokens, and its personal access tokens\n$/);
    await withContextOf(db, async (ctx) => {
      t.equal(await ctx.users.findByLogin('frank'), undefined, 'the account is gone');
      t.equal(await ctx.pats.verify(pat), undefined, 'his token is refused');
      const left = await ctx.db.db.selectFrom('oidc_models').select('model').where(sql<string>`payload ->> 'accountId'`, '=', frankId).execute();
      t.same(left, [], 'his session is gone');
      t.ok(await ctx.users.findByLogin('grace'), 'the other account stays');
      const audited = await ctx.db.db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'user.deleted').execute();
      t.match(audited, [{ details: { via: 'cli', login: 'frank', providerRecords: 1 } }], 'audited as a CLI change');
    });
    expectCliFailure(t, await cli(['admin', 'user', 'delete', 'frank', '--yes']), /no user with login "frank"/, 'an unknown login');
  });
}
