import t from 'tap';
import { sql, type Compilable } from 'kysely';
import { createSignInQueries } from '../../src/accounts/users.repository.ts';
import { createOidcModelsQueries } from '../../src/oidc/oidc-models.repository.ts';
import { createPatQueries } from '../../src/pat/pat.repository.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';

// Every query on a hot path (PAT verification, sign-in, the provider's token and session lookups) must be
// an index scan, on tables big enough and analyzed, so that the planner chooses as it will in
// production (npm run bench seeds a million rows each; this seeds enough to make a sequential
// scan the expensive choice, without turning it off).

const ROWS = 20_000;

for (const kind of dbKinds()) {
  t.test(`every hot-path query is an index scan, on seeded tables [${kind}]`, async (t) => {
    const { ctx } = await buildTestApp(t, { kind, listen: false });
    const db = ctx.db.db;
    await sql`insert into users (id, login, password_hash)
      select gen_random_uuid(), 'user-' || i, '!' from generate_series(1, ${ROWS}::int) as i`.execute(db);
    await sql`insert into personal_access_tokens (id, user_id, digest, created_at, created_via, window_seconds, current_expiry)
      select gen_random_uuid(), (select id from users where login = 'user-' || (1 + i % 2000)), md5('a' || i) || md5('b' || i),
             now(), 'cli', 600, now() + interval '1 hour'
      from generate_series(1, ${ROWS}::int) as i`.execute(db);
    await sql`insert into personal_access_token_nodes (token_id, node_uuid, perm)
      select id, gen_random_uuid(), 'r' from personal_access_tokens where digest like '0%'`.execute(db);
    await sql`insert into oidc_models (model, id, payload, grant_id, uid, expires_at)
      select (array['AccessToken', 'RefreshToken', 'Grant', 'Session', 'Interaction'])[1 + i % 5], md5('id' || i), '{}'::jsonb,
             md5('g' || (i / 5)), case when i % 5 = 3 then md5('u' || i) end, now() + interval '1 hour'
      from generate_series(1, ${ROWS}::int) as i`.execute(db);
    // Uses of the tokens used at least once (most), kept apart from the tokens (migration 0006).
    await sql`insert into pat_uses (token_id, last_used_at, slid_expiry)
      select id, now(), now() + interval '10 minutes' from personal_access_tokens where digest not like 'f%'`.execute(db);
    // The change feed of the PAT cache, read ten times a second by every instance (kept an hour).
    await sql`insert into pat_changes (token_id) select gen_random_uuid() from generate_series(1, ${ROWS}::int)`.execute(db);
    // Failed sign-ins per address and window (migration 0007).
    await sql`insert into login_failures (address, window_start, failures)
      select '10.0.' || (i / 250) || '.' || (i % 250), now() - (i % 5) * interval '5 minutes', 1 + i % 7
      from generate_series(1, ${ROWS}::int) as i`.execute(db);
    await sql`analyze`.execute(db);
    const [{ xmin }] = (await sql<{ xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(db)).rows as [{ xmin: string }];

    const [pat] = (await sql<{ id: string; user_id: string; digest: string }>`select id, user_id, digest from personal_access_tokens limit 1`.execute(db)).rows;
    const p = createPatQueries(db);
    const m = createOidcModelsQueries(db);
    const now = new Date();
    const signIn = createSignInQueries(db);
    const failureWindow = { address: '10.0.3.7', windowStart: now };
    const hot: Record<string, Compilable> = {
      'sign-in: the account and its address\'s failures': signIn.findForSignIn('user-77', failureWindow),
      'sign-in: a failure counted': signIn.addressFailed(failureWindow),
      'PAT lookup': p.lookup([pat!.digest, 'f'.repeat(64)]),
      'PAT lookup, one digest': p.lookup([pat!.digest]),
      'PAT uses written': p.recordUses([{ id: pat!.id, atMs: now.getTime(), from: '192.0.2.1', slidToMs: now.getTime() }]),
      'PAT list': p.listByUser(pat!.user_id),
      'PAT change feed': p.changesSince(xmin, 10_001),
      'PAT changes pruned': p.pruneChanges(new Date(Date.now() - 3_600_000)),
      'PAT revoke': p.revoke(pat!.id, now, pat!.user_id),
      'PAT find': p.find(pat!.id, pat!.user_id),
      'token/grant find': m.findMany('AccessToken', [`${'x'.repeat(43)}`, `${'y'.repeat(43)}`], now),
      'token/grant find, one id': m.findMany('Grant', ['x'.repeat(43)], now),
      'code/token with its grant, one id': m.findManyWithGrant([{ model: 'AuthorizationCode', id: 'x'.repeat(43) }], now),
      'code/token with its grant': m.findManyWithGrant([{ model: 'RefreshToken', id: 'x'.repeat(43) }, { model: 'RefreshToken', id: 'y'.repeat(43) }], now),
      'tokens of several kinds with their grants': m.findManyWithGrant(
        [
          { model: 'AccessToken', id: 'x'.repeat(43) },
          { model: 'RefreshToken', id: 'x'.repeat(43) },
          { model: 'AccessToken', id: 'y'.repeat(43) },
          { model: 'RefreshToken', id: 'y'.repeat(43) },
        ],
        now,
      ),
      'session by uid': m.findBy('Session', 'uid', 'u'.repeat(32), now),
      'consume': m.consume('AuthorizationCode', 'c'.repeat(43), now),
      'destroy': m.destroy('Interaction', 'i'.repeat(21)),
      'a request\'s writes together': m.writeMany(
        [
          { model: 'AccessToken', id: 'a'.repeat(43), payloadJson: '{}', grantId: 'g'.repeat(21), uid: null, userCode: null, expiresAt: now },
          { model: 'RefreshToken', id: 'r'.repeat(43), payloadJson: '{}', grantId: 'g'.repeat(21), uid: null, userCode: null, expiresAt: null },
        ],
        [{ model: 'Interaction', id: 'i'.repeat(21) }],
      ),
      'a redemption with the new tokens': m.writeMany(
        [
          { model: 'AccessToken', id: 'a'.repeat(43), payloadJson: '{}', grantId: 'g'.repeat(21), uid: null, userCode: null, expiresAt: now },
          { model: 'RefreshToken', id: 'r'.repeat(43), payloadJson: '{}', grantId: 'g'.repeat(21), uid: null, userCode: null, expiresAt: null },
        ],
        [],
        { model: 'RefreshToken', id: 'q'.repeat(43), at: now },
      ),
      'revoke by grant': m.revokeByGrantId('g'.repeat(21)),
    };
    for (const [name, query] of Object.entries(hot)) {
      const c = query.compile();
      const plan = await db.executeQuery<{ 'QUERY PLAN': string }>({ ...c, sql: `explain ${c.sql}` });
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      t.notMatch(text, /Seq Scan/, `${name}: no sequential scan`) || t.comment(text);
      t.match(text, /Index/, `${name}: ${text.split('\n').find((l) => /Index/.test(l))?.trim()}`);
    }
  });
}
