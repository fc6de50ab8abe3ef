import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, bearer, makeUser, mintFor } from '../helpers/pat.ts';
import { isWellFormedPat } from '../../src/pat/token-format.ts';

const NODE = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';

async function call(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

for (const kind of dbKinds()) {
  t.test(`admin token endpoints: who may call them [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await makeUser(ctx, 'root', { admin: true });
    await makeUser(ctx, 'alice');
    const rootAt = await accessTokenFor(url, 'root');
    const aliceAt = await accessTokenFor(url, 'alice');
    const rootPat = (await mintFor(ctx, root.id, { expire: '1h' })).token;
    const rootScoped = (await mintFor(ctx, root.id, { expire: '1h', scopes: `node:${NODE}:rw` })).token;
    const path = '/a/admin/users/alice/tokens';
    const body = { expire: '24h' };

    const none = await call(url, 'POST', path, {}, body);
    t.equal(none.status, 401, 'no credentials: 401');
    t.equal(none.headers.get('www-authenticate'), 'Bearer realm="cells-auth"', 'RFC 6750 challenge, no error code');
    t.equal(none.body.error, 'invalid_token');
    t.type(none.body.error_description, 'string');

    const garbage = await call(url, 'POST', path, bearer('not a token at all'), body);
    t.equal(garbage.status, 401);
    const forged = await call(url, 'POST', path, bearer(`${rootPat.slice(0, -1)}${rootPat.endsWith('A') ? 'B' : 'A'}`), body);
    t.equal(forged.status, 401, 'a PAT with a broken checksum: 401');
    t.match(forged.headers.get('www-authenticate'), /error="invalid_token"/);
    const basicHeader = await call(url, 'POST', path, { authorization: `Basic ${Buffer.from(`root:${rootPat}`).toString('base64')}` }, body);
    t.equal(basicHeader.status, 401, 'the admin API takes bearer credentials only');

    t.equal((await call(url, 'POST', path, bearer(aliceAt), body)).status, 403, 'a user who is not an admin: 403');
    const scoped = await call(url, 'POST', path, bearer(rootScoped), body);
    t.equal(scoped.status, 403, 'an admin’s PAT limited to nodes never reaches the admin API');
    t.equal(scoped.body.error, 'insufficient_scope');

    for (const [name, cred] of [['access token', rootAt], ['unscoped PAT', rootPat]] as const) {
      const minted = await call(url, 'POST', path, bearer(cred), { ...body, label: `via ${name}` });
      t.equal(minted.status, 201, `an admin’s ${name}: 201`);
      t.ok(isWellFormedPat(minted.body.token), 'the token, shown once');
      t.equal(minted.body.userId, (await ctx.users.findByLogin('alice'))!.id);
      t.equal(minted.body.createdBy.userId, root.id);
      t.equal(minted.body.createdBy.via, 'admin');
      t.equal(minted.headers.get('cache-control'), 'no-store');
    }
  });

  t.test(`admin mint, list and revoke [${kind}]`, async (t) => {
    // Debug level: the per-request lines are written too, and must not hold the token either.
    const { ctx, url, logs } = await buildTestApp(t, { kind, config: { log: { level: 'debug' } } });
    const root = await makeUser(ctx, 'root', { admin: true });
    await makeUser(ctx, 'alice');
    const admin = bearer((await mintFor(ctx, root.id, { expire: '1h' })).token);
    const path = '/a/admin/users/alice/tokens';

    const before = Date.now();
    const minted = await call(url, 'POST', path, admin, { label: 'backup job', expire: '24h', auto: 600, scopes: [`node:${NODE}:r`] });
    t.equal(minted.status, 201, minted.text);
    const { token, id } = minted.body;
    t.equal(minted.body.label, 'backup job');
    t.equal(minted.body.autoRefreshSeconds, 600);
    t.same(minted.body.scopes, [`node:${NODE}:r`]);
    const hard = Date.parse(minted.body.expiresAt) - before;
    t.ok(hard >= 24 * 3600_000 && hard < 24 * 3600_000 + 60_000, 'hard expiry 24 h out');
    const current = Date.parse(minted.body.currentExpiry) - before;
    t.ok(current >= 600_000 && current < 660_000, 'the window applies first');

    const verify = await fetch(`${url}/a/auth/verify`, { headers: bearer(token) });
    t.equal(verify.status, 200, 'the minted token works');
    t.equal(verify.headers.get('x-auth-user'), 'alice');

    const list = await call(url, 'GET', path, admin);
    t.equal(list.status, 200);
    t.equal(list.body.tokens.length, 1);
    t.equal(list.body.tokens[0].id, id);
    t.equal(list.body.tokens[0].status, 'active');
    t.equal(list.body.tokens[0].token, undefined, 'never the secret');
    t.notOk(list.text.includes(token.slice(4, 47)), 'not even part of it');
    t.ok(list.body.tokens[0].lastUsedAt, 'the use shows');

    const revoked = await call(url, 'DELETE', `/a/admin/tokens/${id}`, admin);
    t.equal(revoked.status, 204);
    t.equal((await fetch(`${url}/a/auth/verify`, { headers: bearer(token) })).status, 401, 'refused at once');
    t.equal((await call(url, 'DELETE', `/a/admin/tokens/${id}`, admin)).status, 204, 'revoking twice is fine');
    t.equal((await call(url, 'GET', path, admin)).body.tokens[0].status, 'revoked');
    const unknown = await call(url, 'DELETE', '/a/admin/tokens/7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d', admin);
    t.equal(unknown.status, 404);
    t.equal(unknown.body.error, 'not_found');
    const bad = await call(url, 'DELETE', '/a/admin/tokens/not-a-uuid', admin);
    t.equal(bad.status, 400, 'a malformed id is a 400, not a database error');
    t.match(bad.body.error_description, /^params\.id: /);

    t.notOk(logs().includes(token), 'the secret never reached a log line');
  });

  t.test(`admin mint refuses bad input naming it, never a 500 [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await makeUser(ctx, 'root', { admin: true });
    await makeUser(ctx, 'alice');
    const admin = bearer((await mintFor(ctx, root.id, { expire: '1h' })).token);
    const path = '/a/admin/users/alice/tokens';
    const cases: Array<[unknown, RegExp]> = [
      [{}, /^expire: give a hard expiry/],
      [{ label: 'x' }, /^expire: /],
      [{ expire: '24' }, /^expire: "24" is not a duration \(missing unit/],
      [{ expire: '28x' }, /^expire: "28x": unknown unit "x"/],
      [{ expire: '-1h' }, /^expire: /],
      [{ auto: '0' }, /^auto: "0": must be longer than zero/],
      [{ auto: 1.5 }, /^auto: /],
      [{ auto: 'soon' }, /^auto: /],
      [{ expire: '1h', scopes: 'node:abc:r' }, /^scopes: scope "node:abc:r" is malformed/],
      [{ expire: '1h', scopes: [`node:${NODE}:r`, `node:${NODE}:x`] }, new RegExp(`^scopes: scope "node:${NODE}:x" is malformed`)],
      [{ expire: '1h', scope: 'typo' }, /^body: /],
      [{ expire: 24 }, /^body\.expire: /],
      ['not json at all', /./],
    ];
    for (const [body, pattern] of cases) {
      const res = typeof body === 'string'
        ? await fetch(`${url}${path}`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body })
        : await fetch(`${url}${path}`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as { error: string; error_description: string };
      t.equal(res.status, 400, `${JSON.stringify(body)} → 400`);
      t.match(json.error_description, pattern, json.error_description);
    }
    const missing = await call(url, 'POST', '/a/admin/users/nobody/tokens', admin, { expire: '1h' });
    t.equal(missing.status, 404, 'unknown user');
    t.match(missing.body.error_description, /nobody/);
    t.equal((await call(url, 'GET', '/a/admin/users/nobody/tokens', admin)).status, 404);
    t.same((await call(url, 'GET', '/a/admin/users/alice/tokens', admin)).body.tokens, [], 'nothing was minted');
  });
}
