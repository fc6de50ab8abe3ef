import * as oidc from 'openid-client';
import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { browse, CookieJar, follow, formAction, formValue } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

// An independent, certified relying-party library against the running server: discovery, code +
// PKCE, ID token validation, userinfo and refresh, as CellsSync does them.

const PASSWORD = 'correct horse battery';

/** The browser's part: from the authorization URL through the login form back to the client. */
async function browser(base: string, start: URL, login: string, password: string): Promise<URL> {
  const jar = new CookieJar();
  let step = await follow(jar, base, await browse(jar, start.href));
  for (let i = 0; i < 3 && !(step instanceof URL); i++) {
    const page = await step.text();
    const action = formAction(page, '/login');
    if (!action) throw new Error(`unexpected page (${step.status}): ${page.slice(0, 300)}`);
    const body = new URLSearchParams({ login, password, csrf: formValue(page, 'csrf') ?? '' });
    step = await follow(jar, base, await browse(jar, new URL(action, base).href, { method: 'POST', body }));
  }
  if (!(step instanceof URL)) throw new Error('the browser did not come back to the client');
  return step;
}

for (const kind of dbKinds()) {
  t.test(`openid-client: discovery, code + PKCE, userinfo, refresh [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const { user } = await ctx.users.create({ login: 'alice', email: 'alice@example.com', password: PASSWORD });

    // openid-client refuses plain-http issuers unless told; the test server has no TLS.
    const config = await oidc.discovery(new URL(`${url}/oidc`), 'cells-sync', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    t.equal(config.serverMetadata().issuer, `${url}/oidc`);

    const redirectUri = 'http://localhost:3652/servers/callback';
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const start = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email profile pydio offline',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const callback = await browser(url, start, 'alice', PASSWORD);
    t.equal(callback.origin + callback.pathname, redirectUri);

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    t.equal(claims.sub, user.id, 'the ID token validates and carries the user UUID');
    t.equal(claims.name, 'alice');
    t.equal(claims.email, 'alice@example.com');
    t.type(tokens.refresh_token, 'string', 'offline gives a refresh token');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    t.match(info, { sub: user.id, name: 'alice', email: 'alice@example.com' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    t.type(refreshed.access_token, 'string');
    t.not(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
    t.equal(refreshed.claims()?.sub, user.id, 'the refreshed ID token validates too');
    const again = await oidc.fetchUserInfo(config, refreshed.access_token, user.id);
    t.equal(again.sub, user.id, 'the new access token works');

    await t.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), { name: 'ResponseBodyError', error: 'invalid_grant' }, 'the used refresh token is refused');
  });
}
