import t from 'tap';
import { sql } from 'kysely';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, basic, bearer, makeUser, mintFor } from '../helpers/pat.ts';
import { generatePat } from '../../src/pat/token-format.ts';

const A = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';
const B = '7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d';

const verify = (url: string, headers: Record<string, string>, query = '') => fetch(`${url}/a/auth/verify${query}`, { headers });

for (const kind of dbKinds()) {
  t.test(`forward-auth: Bearer PAT, Bearer access token, Basic login:PAT [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const alice = await makeUser(ctx, 'alice');
    await makeUser(ctx, 'bob');
    const { token } = await mintFor(ctx, alice.id, { expire: '1h' });

    const pat = await verify(url, bearer(token));
    t.equal(pat.status, 200);
    t.equal(pat.headers.get('x-auth-user'), 'alice');
    t.equal(pat.headers.get('x-auth-subject'), alice.id);
    t.equal(pat.headers.get('x-auth-scopes'), '', 'an unscoped PAT has no node scopes');
    t.equal(pat.headers.get('cache-control'), 'no-store');
    t.match(await pat.json(), { active: true, sub: alice.id, username: 'alice', via: 'pat' });

    const at = await verify(url, bearer(await accessTokenFor(url, 'alice')));
    t.equal(at.status, 200, 'an access token');
    t.equal(at.headers.get('x-auth-user'), 'alice');
    t.match(at.headers.get('x-auth-scopes'), /\bopenid\b/, 'its OAuth scopes');

    t.equal((await verify(url, basic('alice', token))).status, 200, 'Basic login:PAT');
    t.equal((await verify(url, { authorization: `basic ${Buffer.from(`alice:${token}`).toString('base64')}` })).status, 200, 'scheme names are case-insensitive');
    const wrongLogin = await verify(url, basic('bob', token));
    t.equal(wrongLogin.status, 401, 'the PAT’s owner must be the login');
    t.equal((await verify(url, basic('alice', 'correct horse battery'))).status, 401, 'a password is not a PAT');
    t.equal((await verify(url, { authorization: 'Basic %%%' })).status, 401, 'garbage Basic');
    t.equal((await verify(url, { authorization: 'Digest abc' })).status, 401, 'another scheme');

    const none = await verify(url, {});
    t.equal(none.status, 401);
    t.equal(none.headers.get('www-authenticate'), 'Bearer realm="cells-auth", Basic realm="cells-auth", charset="UTF-8"', 'both challenges');
    const bad = await verify(url, bearer(generatePat()));
    t.equal(bad.status, 401);
    t.match(bad.headers.get('www-authenticate'), /^Bearer realm="cells-auth", error="invalid_token", error_description="[^"]+", Basic realm/);
    const head = await fetch(`${url}/a/auth/verify`, { method: 'HEAD', headers: bearer(token) });
    t.equal(head.status, 200, 'HEAD works too');
    t.equal(head.headers.get('x-auth-user'), 'alice');
  });

  t.test(`forward-auth: node scopes are exact nodes with exact permissions [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const alice = await makeUser(ctx, 'alice');
    const scoped = (await mintFor(ctx, alice.id, { expire: '1h', scopes: [`node:${A}:r`, `node:${B}:rw`] })).token;
    const unscoped = (await mintFor(ctx, alice.id, { expire: '1h' })).token;
    const ask = (tok: string, node: string, perm: string, how: 'header' | 'query') =>
      how === 'header'
        ? verify(url, { ...bearer(tok), 'x-auth-node': node, 'x-auth-permission': perm })
        : verify(url, bearer(tok), `?node=${encodeURIComponent(node)}&perm=${encodeURIComponent(perm)}`);

    for (const how of ['header', 'query'] as const) {
      t.equal((await ask(scoped, A, 'r', how)).status, 200, `${how}: read A`);
      t.equal((await ask(scoped, A, 'w', how)).status, 403, `${how}: write A is not granted`);
      t.equal((await ask(scoped, A, 'rw', how)).status, 403, `${how}: rw A is not granted`);
      t.equal((await ask(scoped, B, 'w', how)).status, 200, `${how}: write B`);
      t.equal((await ask(scoped, A.toUpperCase(), 'r', how)).status, 200, `${how}: UUID case does not matter`);
      t.equal((await ask(scoped, '11111111-1111-4111-8111-111111111111', 'r', how)).status, 403, `${how}: another node`);
      t.equal((await ask(scoped, `${A}/child`, 'r', how)).status, 403, `${how}: not a child of a granted node`);
      t.equal((await ask(unscoped, '11111111-1111-4111-8111-111111111111', 'rw', how)).status, 200, `${how}: an unscoped token is not limited here`);
    }
    const denied = await ask(scoped, A, 'w', 'header');
    t.match(await denied.json(), { error: 'insufficient_scope' });
    const ok = await ask(scoped, A, 'r', 'header');
    t.equal(ok.headers.get('x-auth-scopes'), `node:${A}:r node:${B}:rw`);

    const badPerm = await ask(scoped, A, 'x', 'header');
    t.equal(badPerm.status, 400);
    t.match(await badPerm.json(), { error_description: /^perm: / });
    t.equal((await verify(url, { ...bearer(scoped), 'x-auth-node': A })).status, 400, 'a node without a permission');
    t.equal((await verify(url, {}, `?node=${A}&perm=r`)).status, 401, 'credentials are checked first');
  });

  t.test(`forward-auth: revoked at once; storage down is 503, and a forged token never reaches it [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const alice = await makeUser(ctx, 'alice');
    const { token, pat } = await mintFor(ctx, alice.id, { expire: '1h' });
    t.equal((await verify(url, bearer(token))).status, 200);
    await ctx.pats.revoke(pat.id);
    t.equal((await verify(url, bearer(token))).status, 401, 'revoked: refused at once');

    const other = (await mintFor(ctx, alice.id, { auto: '600' })).token;
    // The token table out of reach: every query on it fails.
    await sql`alter table personal_access_tokens rename to personal_access_tokens_away`.execute(ctx.db.db);
    t.teardown(() => sql`alter table if exists personal_access_tokens_away rename to personal_access_tokens`.execute(ctx.db.db).then(() => {}));
    const down = await verify(url, bearer(other));
    t.equal(down.status, 503, 'a storage failure is a 503, never a 401');
    t.equal(down.headers.get('retry-after'), '1');
    t.match(await down.json(), { error: 'temporarily_unavailable' });
    const forged = `${other.slice(0, 10)}${other[10] === 'a' ? 'b' : 'a'}${other.slice(11)}`;
    t.equal((await verify(url, bearer(forged))).status, 401, 'a mistyped token is refused without a query (the store being down does not matter)');
    t.equal((await verify(url, basic('alice', forged))).status, 401, 'the same through Basic');
    await sql`alter table personal_access_tokens_away rename to personal_access_tokens`.execute(ctx.db.db);
    t.equal((await verify(url, bearer(other))).status, 200, 'back once the store is');
  });
}
