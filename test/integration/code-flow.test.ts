import t from 'tap';
import { decodeJwt } from 'jose';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';

for (const kind of dbKinds()) {
  t.test(`code + PKCE through the login form, refresh rotation and reuse [${kind}]`, async (t) => {
    // No grace window here: any reuse is theft (refresh-grace.test.ts covers the window).
    const { ctx, url } = await buildTestApp(t, { kind, config: { refreshGraceSeconds: 0 } });
    const { user } = await ctx.users.create({ login: 'alice', email: 'alice@example.com', password: 'correct horse battery' });

    const redirectUri = 'http://localhost:3636/servers/callback';
    const { code, verifier, callback, state } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'alice', password: 'correct horse battery' });
    t.equal(callback.searchParams.get('state'), state, 'state comes back');
    t.equal(callback.origin + callback.pathname, redirectUri, 'back to the loopback redirect URI');

    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
    t.equal(tokens.status, 200, JSON.stringify(tokens.body));
    t.type(tokens.body.access_token, 'string');
    t.type(tokens.body.refresh_token, 'string', 'offline gives a refresh token');
    const idToken = decodeJwt(String(tokens.body.id_token));
    t.equal(idToken.sub, user.id, 'sub is the user UUID');
    t.equal(idToken.name, 'alice', 'name is the login');
    t.equal(idToken.email, 'alice@example.com');
    t.equal(idToken.authSource, 'local');
    t.equal(idToken.iss, `${url}/oidc`);

    const info = await fetch(`${url}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
    t.equal(info.status, 200);
    t.match(await info.json(), { sub: user.id, name: 'alice', email: 'alice@example.com' });

    const refreshed = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: 'cells-sync' });
    t.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    t.not(refreshed.body.refresh_token, tokens.body.refresh_token, 'the refresh token rotates');

    const reused = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: 'cells-sync' });
    t.equal(reused.status, 400, 'the old refresh token is refused');
    t.equal(reused.body.error, 'invalid_grant');
    const afterReuse = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token), client_id: 'cells-sync' });
    t.equal(afterReuse.body.error, 'invalid_grant', 'reuse of a rotated refresh token revokes the whole family');
  });

  t.test(`a code is redeemed once; replaying it revokes what it gave [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'bob', password: 'correct horse battery' });
    const redirectUri = 'http://localhost:3000/servers/callback';
    const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'bob', password: 'correct horse battery' });
    const params = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier };
    const first = await tokenRequest(url, params);
    t.equal(first.status, 200);
    const again = await tokenRequest(url, params);
    t.equal(again.status, 400, 'a code is used once');
    t.equal(again.body.error, 'invalid_grant');
    const info = await fetch(`${url}/oidc/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
    t.equal(info.status, 401, 'RFC 6749 §4.1.2: the tokens of a replayed code are revoked');
  });

  t.test(`parallel redemptions of one code: exactly one wins [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'carol', password: 'correct horse battery' });
    const redirectUri = 'http://localhost:3650';
    const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'carol', password: 'correct horse battery' });
    const params = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier };
    const results = await Promise.all(Array.from({ length: 8 }, () => tokenRequest(url, params)));
    t.equal(results.filter((r) => r.status === 200).length, 1, 'one success');
    t.ok(results.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant'), 'the others get invalid_grant');
  });
}
