import t from 'tap';
import { auditRows, call, rootAdmin } from '../helpers/admin.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, bearer, makeUser } from '../helpers/pat.ts';

for (const kind of dbKinds()) {
  t.test(`PATs minted and revoked through the APIs are audited, never their secret [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    const alice = await makeUser(ctx, 'alice');
    const aliceAt = bearer(await accessTokenFor(url, 'alice'));
    const before = (await auditRows(ctx)).length;

    const byAdmin = await call(url, 'POST', '/a/admin/users/alice/tokens', root.auth, { label: 'backup', expire: '24h', auto: '10m' });
    t.equal(byAdmin.status, 201);
    const bySelf = await call(url, 'POST', '/a/auth/tokens', aliceAt, { label: 'laptop', expire: '1h' });
    t.equal(bySelf.status, 201);
    t.equal((await call(url, 'DELETE', `/a/admin/tokens/${bySelf.body.id}`, root.auth)).status, 204);
    t.equal((await call(url, 'DELETE', `/a/admin/tokens/${bySelf.body.id}`, root.auth)).status, 204, 'revoking twice');
    t.equal((await call(url, 'DELETE', `/a/auth/tokens/${byAdmin.body.id}`, aliceAt)).status, 204);
    t.equal((await call(url, 'POST', '/a/admin/users/alice/tokens', root.auth, { expire: 'soon' })).status, 400);
    t.equal((await call(url, 'DELETE', '/a/auth/tokens/7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d', aliceAt)).status, 404);

    const rows = (await auditRows(ctx)).slice(before);
    t.same(
      rows.map((r) => `${r.action}:${r.actor_login}:${r.target_id}`),
      [
        `token.minted:root:${byAdmin.body.id}`,
        `token.minted:alice:${bySelf.body.id}`,
        `token.revoked:root:${bySelf.body.id}`,
        `token.revoked:alice:${byAdmin.body.id}`,
      ],
      'one event per mint and per revocation; none for a repeat, a refusal or an unknown id',
    );
    t.match(rows[0], {
      actor_id: root.id,
      address: '127.0.0.1',
      target_type: 'token',
      details: { owner: { id: alice.id, login: 'alice' }, label: 'backup', scopes: [], autoRefreshSeconds: 600, via: 'admin', credential: { type: 'pat' } },
    });
    t.match(rows[1], { actor_id: alice.id, details: { owner: { id: alice.id }, label: 'laptop', via: 'self', credential: { type: 'access_token' } } });
    t.match(rows[2], { details: { via: 'admin' } });
    t.match(rows[3], { details: { via: 'self' } });
    const stored = JSON.stringify(await auditRows(ctx));
    for (const token of [byAdmin.body.token, bySelf.body.token]) {
      t.notOk(stored.includes(token.slice(4, 40)), 'no part of a minted secret is in the trail');
    }
  });
}
