import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, browse, CookieJar, follow, signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

// SPEC §2: PKCE per client, `offline`/`offline_access` → refresh token, the empty-secret Basic header
// of Go's oauth2 library, and CORS for the loopback pages of the native clients only.

const PASSWORD = 'correct horse battery';
const basic = (id: string, secret = '') => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

for (const kind of dbKinds()) {
  t.test(`PKCE: required for cells-sync, optional for cells-client and cells-mobile [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    const jar = new CookieJar();
    await signIn(url, { clientId: 'cells-client', redirectUri: 'http://localhost:3636', login: 'alice', password: PASSWORD, jar });

    // A valid redirect URI: the refusal goes back to the client, as RFC 6749 §4.1.2.1 says.
    const { url: noPkce, state } = authorizeUrl(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636/servers/callback', pkce: false });
    const back = await follow(jar, url, await browse(jar, noPkce));
    t.ok(back instanceof URL, 'back to the client');
    const refused = back as URL;
    t.equal(refused.searchParams.get('error'), 'invalid_request');
    t.match(refused.searchParams.get('error_description'), /PKCE/);
    t.equal(refused.searchParams.get('code'), null, 'no code');
    t.equal(refused.searchParams.get('state'), state);

    const plain = authorizeUrl(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', pkce: false, extra: { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' } });
    const plainBack = (await follow(jar, url, await browse(jar, plain.url))) as URL;
    t.equal(plainBack.searchParams.get('error'), 'invalid_request', 'only S256');

    for (const [clientId, redirectUri] of [
      ['cells-client', 'http://localhost:3000/servers/callback'],
      ['cells-mobile', 'cellsauth://callback'],
    ] as const) {
      const { code } = await signIn(url, { clientId, redirectUri, login: 'alice', password: PASSWORD, jar, pkce: false });
      const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId });
      t.equal(tokens.status, 200, `${clientId} without PKCE: ${JSON.stringify(tokens.body)}`);
      t.type(tokens.body.access_token, 'string');
    }

    // A PKCE flow that started with a challenge must finish with its verifier.
    const withPkce = await signIn(url, { clientId: 'cells-client', redirectUri: 'http://localhost:3636', login: 'alice', password: PASSWORD, jar });
    const missing = await tokenRequest(url, { grant_type: 'authorization_code', code: withPkce.code, redirect_uri: 'http://localhost:3636', client_id: 'cells-client' });
    t.equal(missing.body.error, 'invalid_grant', 'a challenge without its verifier is refused');
  });

  t.test(`offline and offline_access give a refresh token; neither gives none [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    const jar = new CookieJar();
    const redirectUri = 'http://localhost:3640/servers/callback';
    const cases: Array<[string, boolean]> = [
      ['openid email profile offline', true],
      ['openid offline_access', true],
      ['openid email offline_access pydio', true],
      ['openid email profile pydio', false],
    ];
    for (const [scope, refresh] of cases) {
      const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, scope, login: 'alice', password: PASSWORD, jar });
      const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
      t.equal(tokens.status, 200, JSON.stringify(tokens.body));
      t.equal(typeof tokens.body.refresh_token === 'string', refresh, `"${scope}" (no prompt=consent): ${refresh ? 'a' : 'no'} refresh token`);
    }
  });

  t.test(`a public client's Basic header with an empty secret [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    const jar = new CookieJar();
    const redirectUri = 'http://localhost:3000/servers/callback';

    const first = await signIn(url, { clientId: 'cells-client', redirectUri, login: 'alice', password: PASSWORD, jar });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code: first.code, redirect_uri: redirectUri, code_verifier: first.verifier }, { authorization: basic('cells-client') });
    t.equal(tokens.status, 200, `Basic base64(cells-client:) is client_id in the body: ${JSON.stringify(tokens.body)}`);
    const refreshed = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) }, { authorization: basic('cells-client') });
    t.equal(refreshed.status, 200, 'and for a refresh');

    const second = await signIn(url, { clientId: 'cells-client', redirectUri, login: 'alice', password: PASSWORD, jar });
    const mismatch = await tokenRequest(
      url,
      { grant_type: 'authorization_code', code: second.code, redirect_uri: redirectUri, code_verifier: second.verifier, client_id: 'cells-sync' },
      { authorization: basic('cells-client') },
    );
    t.equal(mismatch.status, 400, 'a different client_id in the body is refused');
    t.equal(mismatch.body.error, 'invalid_request');
    const same = await tokenRequest(
      url,
      { grant_type: 'authorization_code', code: second.code, redirect_uri: redirectUri, code_verifier: second.verifier, client_id: 'cells-client' },
      { authorization: basic('cells-client') },
    );
    t.equal(same.status, 200, 'the same client_id in the body is fine (and the refused attempt did not use the code)');

    const withSecret = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token) }, { authorization: basic('cells-client', 'not-empty') });
    t.equal(withSecret.status, 401, 'a non-empty secret is client authentication, which a public client does not have');
    t.equal(withSecret.body.error, 'invalid_client');
    const unknown = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic('nobody') });
    t.equal(unknown.body.error, 'invalid_client', 'an unknown id stays unknown');
  });

  t.test(`CORS on the token endpoint: loopback origins only [${kind}]`, async (t) => {
    const { url } = await buildTestApp(t, { kind });
    const token = `${url}/oidc/oauth2/token`;
    const preflight = (origin: string) =>
      fetch(token, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

    const good = await preflight('http://localhost:3640');
    t.equal(good.headers.get('access-control-allow-origin'), 'http://localhost:3640', 'a CellsSync page may call the token endpoint');
    t.match(good.headers.get('access-control-allow-methods'), /POST/);
    const evil = await preflight('https://evil.example');
    t.equal(evil.headers.get('access-control-allow-origin'), null, 'another origin gets no CORS grant');
    t.equal(evil.headers.get('access-control-allow-methods'), null);

    const post = (origin: string) =>
      fetch(token, { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'nope', client_id: 'cells-sync' }) });
    const goodPost = await post('http://localhost:3640');
    t.equal(goodPost.headers.get('access-control-allow-origin'), 'http://localhost:3640', 'the answer (an error here) is readable by the loopback page');
    t.equal(((await goodPost.json()) as { error: string }).error, 'invalid_grant');
    const evilPost = await post('https://evil.example');
    t.equal(evilPost.headers.get('access-control-allow-origin'), null, 'not readable by another origin');

    const getEvil = await fetch(token, { headers: { origin: 'https://evil.example' } });
    t.equal(getEvil.headers.get('access-control-allow-origin'), null, 'GET from another origin: no CORS grant either');
    const getGood = await fetch(token, { headers: { origin: 'http://localhost:3640' } });
    t.not(getGood.status, 500, 'GET on the token endpoint is not a server error');
    const discovery = await fetch(`${url}/oidc/.well-known/openid-configuration`, { headers: { origin: 'https://evil.example' } });
    t.equal(discovery.headers.get('access-control-allow-origin'), 'https://evil.example', 'the public metadata stays readable by any page');
  });

  t.test(`malformed client ids, codes and tokens are refused, never a 500 [${kind}]`, async (t) => {
    const { url } = await buildTestApp(t, { kind });
    // NUL cannot be stored in Postgres text: asking the database for it would fail.
    for (const clientId of ['\u0000', 'a\u0000b', 'x'.repeat(5000), '\u00c0', 'cells-sync\n']) {
      const res = await fetch(authorizeUrl(url, { clientId, redirectUri: 'http://localhost:3636' }).url, { redirect: 'manual' });
      t.equal(res.status, 400, `authorize with client_id ${JSON.stringify(clientId.slice(0, 12))}`);
      t.equal(res.headers.get('location'), null);
    }
    const cases: Array<[Record<string, string>, Record<string, string>, number]> = [
      [{ grant_type: 'refresh_token', refresh_token: 'x', client_id: '\u0000' }, {}, 401],
      [{ grant_type: 'authorization_code', code: '\u0000', client_id: 'cells-sync', redirect_uri: 'http://localhost:3636', code_verifier: 'x'.repeat(43) }, {}, 400],
      [{ grant_type: 'refresh_token', refresh_token: 'a\u0000', client_id: 'cells-sync' }, {}, 400],
      [{ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic('\u0000') }, 401],
    ];
    for (const [params, headers, status] of cases) {
      const res = await tokenRequest(url, params, headers);
      t.equal(res.status, status, `token endpoint: ${JSON.stringify(params)} → ${status} ${JSON.stringify(res.body)}`);
    }
    const info = await fetch(`${url}/oidc/userinfo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'access_token=%00' });
    t.equal(info.status, 401, 'userinfo with a NUL token');
  });
}
