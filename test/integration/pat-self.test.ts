import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, bearer, makeUser, mintFor } from '../helpers/pat.ts';

const NODE = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';

async function call(url: string, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

for (const kind of dbKinds()) {
  t.test(`a signed-in user lists, mints and revokes their own tokens [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const alice = await makeUser(ctx, 'alice');
    const bob = await makeUser(ctx, 'bob');
    const aliceAt = bearer(await accessTokenFor(url, 'alice'));
    const bobPat = await mintFor(ctx, bob.id, { expire: '1h' });

    t.equal((await call(url, 'GET', '/a/auth/tokens', {})).status, 401, 'anonymous: 401');

    const minted = await call(url, 'POST', '/a/auth/tokens', aliceAt, { label: 'laptop', auto: '10m', scopes: `node:${NODE}:rw` });
    t.equal(minted.status, 201);
    t.equal(minted.body.userId, alice.id, 'minted for the caller, whatever else');
    t.equal(minted.body.createdBy.via, 'self');
    t.same(minted.body.scopes, [`node:${NODE}:rw`]);

    const list = await call(url, 'GET', '/a/auth/tokens', aliceAt);
    t.same(list.body.tokens.map((x: { id: string }) => x.id), [minted.body.id], 'only her own tokens');

    const others = await call(url, 'DELETE', `/a/auth/tokens/${bobPat.pat.id}`, aliceAt);
    t.equal(others.status, 404, 'someone else’s token: 404, as if it did not exist');
    t.ok(await ctx.pats.verify(bobPat.token), 'and it still works');

    t.equal((await call(url, 'DELETE', `/a/auth/tokens/${minted.body.id}`, aliceAt)).status, 204);
    t.equal(await ctx.pats.verify(minted.body.token), undefined, 'revoked');
    t.equal((await call(url, 'POST', '/a/auth/tokens', aliceAt, { scopes: `node:${NODE}:r` })).status, 400, 'no expiry: 400');
  });

  t.test(`minting never goes beyond the caller’s own rights [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const alice = await makeUser(ctx, 'alice');
    const unscoped = bearer((await mintFor(ctx, alice.id, { expire: '1h' })).token);
    const scoped = bearer((await mintFor(ctx, alice.id, { expire: '1h', scopes: `node:${NODE}:r` })).token);

    const byPat = await call(url, 'POST', '/a/auth/tokens', unscoped, { expire: '30m' });
    t.equal(byPat.status, 201, 'an unscoped PAT carries the user’s full rights and may mint');

    for (const [method, path, body] of [
      ['POST', '/a/auth/tokens', { expire: '1h' }],
      ['POST', '/a/auth/tokens', { expire: '1h', scopes: `node:${NODE}:r` }],
      ['GET', '/a/auth/tokens', undefined],
      ['DELETE', `/a/auth/tokens/${byPat.body.id}`, undefined],
    ] as const) {
      const res = await call(url, method, path, scoped, body);
      t.equal(res.status, 403, `a PAT limited to nodes: ${method} ${path} ${JSON.stringify(body ?? '')} → 403`);
      t.equal(res.body.error, 'insufficient_scope');
    }
    t.ok(await ctx.pats.verify(byPat.body.token), 'the scoped PAT did not revoke anything');
    t.equal((await ctx.pats.list(alice.id)).length, 3, 'and minted nothing');

    // `unscoped` has a hard expiry one hour out: nothing it mints may outlive it.
    for (const body of [{ expire: '2h' }, { auto: '10m' }, { expire: '3650d', auto: '10m' }]) {
      const res = await call(url, 'POST', '/a/auth/tokens', unscoped, body);
      t.equal(res.status, 403, `minted with a 1 h PAT: ${JSON.stringify(body)} → 403`);
      t.match(res.body.error_description, /cannot outlive it/);
    }
    t.equal((await call(url, 'POST', '/a/auth/tokens', unscoped, { expire: '30m', auto: '5m' })).status, 201, 'within its life: fine');
    const slidingOnly = bearer((await mintFor(ctx, alice.id, { auto: '600' })).token);
    t.equal((await call(url, 'POST', '/a/auth/tokens', slidingOnly, { expire: '28d' })).status, 201, 'a PAT that only slides has no end to outlive');
  });
}
