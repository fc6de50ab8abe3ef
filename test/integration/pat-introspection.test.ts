import t from 'tap';
import { sql } from 'kysely';
import type { AppContext } from '../../src/context.ts';
import { generatePat } from '../../src/pat/token-format.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, makeUser, mintFor } from '../helpers/pat.ts';

const A = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';

/** A confidential resource server, registered the way an operator would (the clients service; its secret stored as a digest). */
async function registerResourceServer(ctx: AppContext, clientId: string, secret: string, introspect: boolean) {
  // A client that does not introspect needs a grant to be a client at all.
  await ctx.clients.register(introspect ? { clientId, secret, introspect } : { clientId, secret, redirectUris: ['https://rs.example.com/cb'] });
  return { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` };
}

async function introspect(url: string, headers: Record<string, string>, token: string) {
  const res = await fetch(`${url}/oidc/oauth2/introspect`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

for (const kind of dbKinds()) {
  t.test(`introspection understands PATs, for introspecting clients only [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const alice = await makeUser(ctx, 'alice');
    const rs = await registerResourceServer(ctx, 'files-api', 'a-long-resource-server-secret', true);
    const notAllowed = await registerResourceServer(ctx, 'other-api', 'another-long-secret-value', false);
    const scoped = await mintFor(ctx, alice.id, { auto: '600', scopes: `node:${A}:r` });
    const plain = await mintFor(ctx, alice.id, { expire: '1h' });

    const got = await introspect(url, rs, scoped.token);
    t.equal(got.status, 200);
    t.match(got.body, {
      active: true,
      sub: alice.id,
      username: 'alice',
      scope: `node:${A}:r`,
      token_type: 'Bearer',
      token_kind: 'personal_access_token',
      iss: `${url}/oidc`,
      node_grants: [{ node: A, perm: 'r' }],
    });
    const exp = got.body.exp as number;
    t.ok(Math.abs(exp - (Date.now() / 1000 + 600)) < 30, 'exp: the expiry after this use');
    t.equal(got.headers.get('cache-control'), 'no-store', 'the provider’s own headers stay');

    const p = await introspect(url, rs, plain.token);
    t.match(p.body, { active: true, username: 'alice', node_grants: [] });
    t.equal(p.body.scope, undefined, 'no node scopes: no scope');

    t.same((await introspect(url, notAllowed, plain.token)).body, { active: false }, 'a client not marked introspect learns nothing');
    t.same((await introspect(url, rs, generatePat())).body, { active: false }, 'unknown');
    t.same((await introspect(url, rs, `${plain.token.slice(0, -1)}${plain.token.endsWith('0') ? '1' : '0'}`)).body, { active: false }, 'broken checksum');
    await ctx.pats.revoke(plain.pat.id);
    t.same((await introspect(url, rs, plain.token)).body, { active: false }, 'revoked');

    const anonymous = await introspect(url, {}, scoped.token);
    t.equal(anonymous.status, 400, 'no client authentication: the provider refuses');
    t.not(anonymous.body.active, true);
    const wrongSecret = await introspect(url, { authorization: `Basic ${Buffer.from('files-api:wrong').toString('base64')}` }, scoped.token);
    t.equal(wrongSecret.status, 401);
    t.equal(wrongSecret.body.error, 'invalid_client');

    const at = await accessTokenFor(url, 'alice');
    t.match((await introspect(url, rs, at)).body, { active: true, sub: alice.id, client_id: 'cells-sync' }, 'access tokens still go the provider’s way');
  });

  t.test(`introspection with the token store down is a 503, never active:false [${kind}]`, async (t) => {
    // Debug level: the per-request lines are written too, and must not hold the token either.
    const { ctx, url, logs } = await buildTestApp(t, { kind, config: { log: { level: 'debug' } } });
    const alice = await makeUser(ctx, 'alice');
    const rs = await registerResourceServer(ctx, 'files-api', 'a-long-resource-server-secret', true);
    const { token } = await mintFor(ctx, alice.id, { expire: '1h' });
    await sql`alter table personal_access_tokens rename to personal_access_tokens_away`.execute(ctx.db.db);
    const down = await introspect(url, rs, token);
    await sql`alter table personal_access_tokens_away rename to personal_access_tokens`.execute(ctx.db.db);
    t.equal(down.status, 503);
    t.equal(down.body.error, 'temporarily_unavailable');
    t.not(down.body.active, false);
    t.equal((await introspect(url, rs, token)).body.active, true, 'back once the store is');
    t.notOk(logs().includes(token), 'the token never reached a log line');
  });
}
