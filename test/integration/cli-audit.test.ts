import { sql } from 'kysely';
import t from 'tap';
import { connectDatabase } from '../../src/db/connect.ts';
import { cliDatabase, runCli } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';

// The command line changes things on the server with no account behind it: each change is in the
// trail, marked as coming from the CLI with the system user who ran it, and written before the
// command exits (the context closes its database right after).

for (const kind of dbKinds()) {
  t.test(`the command line audits what it changes [${kind}]`, async (t) => {
    const { env, target } = await cliDatabase(t, kind);
    const run = async (args: string[], input?: string) => {
      const r = await runCli(args, { env, input });
      t.equal(r.code, 0, `${args.join(' ')}: ${r.stderr.trim()}`);
      return r.stdout;
    };

    await run(['admin', 'user', 'create', 'alice', '--password-stdin'], 'correct horse battery\n');
    const token = (await run(['admin', 'user', 'token', '-u', 'alice', '-e', '1h', '-q'])).trim();
    const [listed] = JSON.parse(await run(['admin', 'user', 'tokens', '-u', 'alice', '--json'])) as Array<{ id: string }>;
    await run(['admin', 'token', 'revoke', listed!.id]);
    await run(['admin', 'token', 'revoke', listed!.id]);
    const generated = /password: (\S+)/.exec(await run(['admin', 'user', 'set-password', 'alice']))![1]!;
    await run(['admin', 'user', 'unlock', 'alice']);
    const clientOut = await run(['admin', 'client', 'create', 'svc', '--redirect-uri', 'https://svc.example.com/cb']);
    const clientSecret = /client secret: (\S+)/.exec(clientOut)![1]!;
    await run(['keys', 'rotate']);

    const db = await connectDatabase(target);
    t.teardown(() => db.close());
    const { rows } = await sql<Record<string, unknown>>`select * from audit_events order by id`.execute(db.db);
    t.same(
      rows.map((r) => `${r.action}:${r.target_type}`),
      ['user.created:user', 'token.minted:token', 'token.revoked:token', 'user.password_set:user', 'user.unlocked:user', 'client.created:client', 'keys.rotated:signing_key'],
      'each change once (a repeated revocation is not one)',
    );
    for (const r of rows) {
      t.match(r, { actor_id: null, actor_login: null, address: null, details: { via: 'cli' } }, `${r.action}: from the command line, no account behind it`);
      t.type((r.details as { osUser: unknown }).osUser, 'string', `${r.action}: the system user who ran it`);
    }
    t.match(rows[1], { target_id: listed!.id, details: { owner: { login: 'alice' } } });
    t.match(rows[2], { target_id: listed!.id });
    t.match(rows[3], { details: { login: 'alice', generated: true } });
    t.match(rows[5], { target_id: 'svc', details: { type: 'confidential', redirectUris: ['https://svc.example.com/cb'] } });
    const stored = JSON.stringify(rows);
    t.notOk(stored.includes(token.slice(4, 40)), 'not the minted token');
    t.notOk(stored.includes('correct horse battery') || stored.includes(generated), 'not a password');
    t.notOk(stored.includes(clientSecret), 'not the client secret');
  });
}
