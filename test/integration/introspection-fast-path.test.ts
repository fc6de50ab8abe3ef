import { sql } from 'kysely';
import t from 'tap';
import type { AppContext } from '../../src/context.ts';
import { dbKinds } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { countProviderRequests } from '../helpers/provider-requests.ts';

// The provider's own access and refresh tokens are introspected before the provider in the common
// case (oidc/provider-token-introspection.ts). Whatever the token's state, the answer must be the
// object the provider gives for it: each is asked both ways — Basic credentials the fast path takes,
// and the same credentials form-encoded (RFC 6749 §2.3.1), which it leaves to the provider.

const PASSWORD = 'correct horse battery';
const SECRET = 'a-long-resource-server-secret';
const SYNC_REDIRECT = 'http://localhost:3636/servers/callback';
const APP_REDIRECT = 'https://app.example.com/cb';

const basicOf = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const FAST = basicOf('files-api', SECRET);
// The same client and secret, with the secret form-encoded: only the provider decodes that.
const VIA_PROVIDER = basicOf('files-api', encodeURIComponent(SECRET).replaceAll('-', '%2D'));

const countHandedOver = (ctx: AppContext) => countProviderRequests(ctx, '/oauth2/introspect');

async function introspect(url: string, authorization: string, params: Record<string, string>) {
  const res = await fetch(`${url}/oidc/oauth2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    body: new URLSearchParams(params),
  });
  return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as Record<string, unknown> };
}

async function tokensFor(url: string, clientId: string, redirectUri: string, clientAuth: Record<string, string> = {}) {
  const signedIn = await signIn(url, { clientId, redirectUri, login: 'alice', password: PASSWORD, ...(clientId === 'cells-sync' ? {} : { pkce: false }) });
  const params: Record<string, string> = { grant_type: 'authorization_code', code: signedIn.code, redirect_uri: redirectUri };
  if (clientId === 'cells-sync') Object.assign(params, { client_id: clientId, code_verifier: signedIn.verifier });
  const res = await tokenRequest(url, params, clientAuth);
  if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
  return { access: String(res.body.access_token), refresh: String(res.body.refresh_token) };
}

for (const kind of dbKinds()) {
  t.test(`the provider's tokens: answered before it, as it answers them [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const { user: alice } = await ctx.users.create({ login: 'alice', password: PASSWORD });
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    // A confidential client that only signs people in: it may not introspect.
    await ctx.clients.register({ clientId: 'no-introspect', secret: SECRET, redirectUris: [APP_REDIRECT] });
    const handedOver = countHandedOver(ctx);
    const { access, refresh } = await tokensFor(url, 'cells-sync', SYNC_REDIRECT);

    /** Asks both ways; checks they agree and that only the second reached the provider. */
    async function bothWays(what: string, params: Record<string, string>) {
      const before = handedOver();
      const fast = await introspect(url, FAST, params);
      t.equal(handedOver(), before, `${what}: answered before the provider`);
      const slow = await introspect(url, VIA_PROVIDER, params);
      t.equal(handedOver(), before + 1, `${what}: the provider answered the second`);
      t.equal(fast.status, 200, `${what}: 200`);
      t.equal(fast.cache, 'no-store', `${what}: not cached`);
      t.same(fast.body, slow.body, `${what}: the provider's answer, key for key`);
      t.same(Object.keys(fast.body), Object.keys(slow.body), `${what}: in its order`);
      return fast.body;
    }

    const at = await bothWays('an access token', { token: access });
    t.match(at, { active: true, sub: alice.id, client_id: 'cells-sync', token_type: 'Bearer', iss: `${url}/oidc`, scope: /openid/ });
    t.type(at.exp, 'number');
    await bothWays('an access token hinted as a refresh token', { token: access, token_type_hint: 'refresh_token' });
    const rt = await bothWays('a refresh token', { token: refresh });
    t.match(rt, { active: true, sub: alice.id, client_id: 'cells-sync' });
    t.notOk('token_type' in rt, 'a refresh token has no token_type');
    await bothWays('a refresh token hinted as an access token', { token: refresh, token_type_hint: 'access_token' });
    t.same(await bothWays('an unknown token', { token: 'x'.repeat(43) }), { active: false });

    // A client not marked `introspect` is the provider's to refuse (active: false).
    const before = handedOver();
    const refused = await introspect(url, basicOf('no-introspect', SECRET), { token: access });
    t.same(refused.body, { active: false });
    t.equal(handedOver(), before + 1, 'a client that may not introspect goes to the provider');
    // A JWT-shaped value is the provider's to refuse too.
    const jwt = await introspect(url, FAST, { token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' });
    t.equal(jwt.status, 400);
    t.match(jwt.body, { error: 'unsupported_token_type' }, "a structured token: the provider's error");

    // Revoking the refresh token ends the grant: both tokens are inactive, both ways.
    const revoked = await fetch(`${url}/oidc/oauth2/revoke`, { method: 'POST', body: new URLSearchParams({ token: refresh, client_id: 'cells-sync' }) });
    t.equal(revoked.status, 200);
    t.same(await bothWays('a revoked refresh token', { token: refresh }), { active: false });
    t.same(await bothWays("an access token of a revoked grant", { token: access }), { active: false });
  });

  t.test(`a token whose client is gone is inactive, not an error [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    const { secret } = await ctx.clients.register({ clientId: 'webapp', firstParty: true, redirectUris: [APP_REDIRECT] });
    const { access } = await tokensFor(url, 'webapp', APP_REDIRECT, { authorization: basicOf('webapp', secret!) });
    t.match((await introspect(url, FAST, { token: access })).body, { active: true, client_id: 'webapp' });

    // Deleting a client through us deletes what it was issued too.
    await ctx.clients.remove('webapp');
    t.same((await introspect(url, FAST, { token: access })).body, { active: false }, 'deleted with its client');

    // A client can also vanish with its tokens still stored (a static client dropped from the
    // clients file, then a restart): such a token is inactive, where the provider fails with a 500.
    const again = await ctx.clients.register({ clientId: 'webapp', firstParty: true, redirectUris: [APP_REDIRECT] });
    const orphan = await tokensFor(url, 'webapp', APP_REDIRECT, { authorization: basicOf('webapp', again.secret!) });
    await sql`delete from clients where client_id = 'webapp'`.execute(ctx.db.db);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the client cache's second
    const after = await introspect(url, FAST, { token: orphan.access });
    t.equal(after.status, 200);
    t.same(after.body, { active: false });
  });
}
