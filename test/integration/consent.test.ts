import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, browse, CookieJar, follow, formAction, formValue, signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

// SPEC §2: the default clients are first-party (Cells never shows a consent screen); a client an
// operator registers gets one unless it is registered first-party.

const PASSWORD = 'correct horse battery';
const REDIRECT = 'https://app.example.com/cb';

/** Authorizes and signs in; returns the page that follows the login (or the URL we were sent back to). */
async function afterLogin(base: string, jar: CookieJar, clientId: string, redirectUri: string, scope?: string) {
  const start = authorizeUrl(base, { clientId, redirectUri, scope });
  let step = await follow(jar, base, await browse(jar, start.url));
  if (!(step instanceof URL)) {
    const page = await step.text();
    const login = formAction(page, '/login');
    if (login) {
      const body = new URLSearchParams({ login: 'alice', password: PASSWORD, csrf: formValue(page, 'csrf') ?? '' });
      step = await follow(jar, base, await browse(jar, new URL(login, base).toString(), { method: 'POST', body }));
    } else {
      return { step: page, start };
    }
  }
  return { step: step instanceof URL ? step : await step.text(), start };
}

for (const kind of dbKinds()) {
  t.test(`consent: skipped for first-party clients, shown for an operator's client [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    await ctx.clients.register({ clientId: 'third-party', name: 'Third Party App', public: true, redirectUris: [REDIRECT] });
    await ctx.clients.register({ clientId: 'trusted-app', public: true, firstParty: true, redirectUris: [REDIRECT] });

    const jar = new CookieJar();
    for (const [clientId, redirectUri] of [
      ['cells-sync', 'http://localhost:3636/servers/callback'],
      ['cells-mobile', 'cellsauth://callback'],
      ['cells-client', 'http://localhost:3636'],
      ['trusted-app', REDIRECT],
    ]) {
      // consent: false makes signIn fail if a consent page shows up.
      const { callback } = await signIn(url, { clientId: clientId!, redirectUri: redirectUri!, login: 'alice', password: PASSWORD, jar, consent: false });
      t.ok(callback.searchParams.get('code'), `${clientId}: no consent screen`);
    }
    const more = await signIn(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', scope: 'openid email profile pydio offline', login: 'alice', password: PASSWORD, jar, consent: false });
    t.ok(more.code, 'a first-party client asking for more scopes later still sees no consent screen');
    const prompted = await signIn(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', scope: 'openid offline_access', extra: { prompt: 'consent' }, login: 'alice', password: PASSWORD, jar, consent: false });
    const offline = await tokenRequest(url, { grant_type: 'authorization_code', code: prompted.code, redirect_uri: 'http://localhost:3636', client_id: 'cells-sync', code_verifier: prompted.verifier });
    t.type(offline.body.refresh_token, 'string', 'prompt=consent from a first-party client: no consent screen, and offline_access is honoured');

    // The operator's client: consent shows, names the client and the scopes; Allow completes the flow.
    const { step } = await afterLogin(url, jar, 'third-party', REDIRECT);
    t.type(step, 'string', 'a page, not a redirect');
    const page = step as string;
    t.match(page, /Allow access/);
    t.match(page, /Third Party App/, 'the page names the client');
    t.match(page, /<code>email<\/code>/, 'and what it asks for');
    const allow = formAction(page, '/consent')!;
    const back = await follow(jar, url, await browse(jar, new URL(allow, url).toString(), { method: 'POST', body: new URLSearchParams({ csrf: formValue(page, 'csrf')! }) }));
    t.ok(back instanceof URL && back.href.startsWith(`${REDIRECT}?`), 'Allow sends the code to the client');
    const code = (back as URL).searchParams.get('code')!;
    t.ok(code);

    const again = await afterLogin(url, jar, 'third-party', REDIRECT);
    t.ok(again.step instanceof URL && (again.step as URL).searchParams.get('code'), 'the consent is remembered for the same scopes');
    const start = authorizeUrl(url, { clientId: 'third-party', redirectUri: REDIRECT, extra: { prompt: 'consent' } });
    const asked = await follow(jar, url, await browse(jar, start.url));
    t.match(asked instanceof URL ? '' : await asked.text(), /Allow access/, 'prompt=consent from a third-party client asks again');

    // A consent POST without its CSRF token is refused.
    const other = await afterLogin(url, new CookieJar(), 'third-party', REDIRECT);
    const forged = await browse(new CookieJar(), new URL(formAction(other.step as string, '/consent')!, url).toString(), { method: 'POST', body: new URLSearchParams({ csrf: 'x' }) });
    t.equal(forged.status, 400, 'a consent without the session and token is refused');
  });

  t.test(`consent: Deny returns access_denied to the redirect URI [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    await ctx.clients.register({ clientId: 'third-party', public: true, redirectUris: [REDIRECT] });
    const jar = new CookieJar();
    const { step, start } = await afterLogin(url, jar, 'third-party', REDIRECT);
    const page = step as string;
    const deny = formAction(page, '/abort');
    t.ok(deny, 'the page offers Deny');
    const back = await follow(jar, url, await browse(jar, new URL(deny!, url).toString(), { method: 'POST', body: new URLSearchParams({ csrf: formValue(page, 'csrf')! }) }));
    t.ok(back instanceof URL, 'back to the client');
    const denied = back as URL;
    t.equal(denied.origin + denied.pathname, REDIRECT);
    t.equal(denied.searchParams.get('error'), 'access_denied');
    t.equal(denied.searchParams.get('state'), start.state);
    t.equal(denied.searchParams.get('code'), null);

    // Deny left no grant behind: the next request asks again.
    const next = await afterLogin(url, jar, 'third-party', REDIRECT);
    t.match(next.step as string, /Allow access/, 'asked again after a Deny');
  });

  t.test(`an operator's public client redeems its code with PKCE [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    await ctx.clients.register({ clientId: 'third-party', public: true, redirectUris: [REDIRECT] });
    const { code, verifier } = await signIn(url, { clientId: 'third-party', redirectUri: REDIRECT, login: 'alice', password: PASSWORD });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'third-party', code_verifier: verifier });
    t.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const noPkce = await follow(new CookieJar(), url, await fetch(authorizeUrl(url, { clientId: 'third-party', redirectUri: REDIRECT, pkce: false }).url, { redirect: 'manual' }));
    t.equal((noPkce as URL).searchParams.get('error'), 'invalid_request', "PKCE is required for an operator's public client");
  });
}
