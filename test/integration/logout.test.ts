import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, browse, CookieJar, follow, formValue, signIn, type AuthorizeOptions } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { registerOperatorClient } from '../helpers/operator-client.ts';

const GOOD = 'correct horse battery';
const sync: AuthorizeOptions = { clientId: 'cells-sync', redirectUri: 'http://localhost:3636' };
// What a browser sends: the provider answers errors as a page only to a client that prefers HTML.
const asBrowser = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };

async function signedInAgain(base: string, jar: CookieJar): Promise<boolean> {
  const step = await follow(jar, base, await browse(jar, authorizeUrl(base, sync).url));
  return step instanceof URL && Boolean(step.searchParams.get('code'));
}

/** The logout page: ours, with the provider's form (and its xsrf token) inside. */
async function logoutPage(t: Test, res: Response): Promise<{ action: string; xsrf: string }> {
  t.equal(res.status, 200);
  t.equal(res.headers.get('cache-control'), 'no-store');
  const html = await res.text();
  t.match(html, /<html lang="en">/);
  t.match(html, /<h1>Sign out\?<\/h1>/, 'our page');
  t.match(html, /<button type="submit" form="op.logoutForm" name="logout" value="yes"/);
  t.notMatch(html, /<script|style=/, 'no inline script or style');
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
  return { action, xsrf: formValue(html, 'xsrf') ?? '' };
}

for (const kind of dbKinds()) {
  t.test(`logout (GET and POST) shows our page and ends the session [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: GOOD });
    const { jar } = await signIn(url, { ...sync, login: 'alice', password: GOOD });

    // POST is answered with a 303 to the GET form of the same request (see src/oidc/post-as-get.ts).
    const posted = await browse(jar, `${url}/oidc/oauth2/sessions/logout`, { method: 'POST', body: new URLSearchParams({ ui_locales: 'en' }) });
    t.equal(posted.status, 303, 'POST: see the same request as a GET');
    t.equal(posted.headers.get('location'), `${url}/oidc/oauth2/sessions/logout?ui_locales=en`, 'with the form parameters in the query');
    const viaPost = await logoutPage(t, await browse(jar, posted.headers.get('location')!));
    t.ok(viaPost.xsrf, 'POST: the page with its token');
    const { action, xsrf } = await logoutPage(t, await browse(jar, `${url}/oidc/oauth2/sessions/logout`));
    t.equal(action, `${url}/oidc/oauth2/sessions/logout/confirm`);

    const forged = await browse(jar, action, { method: 'POST', headers: asBrowser, body: new URLSearchParams({ xsrf: 'forged', logout: 'yes' }) });
    t.equal(forged.status, 400, 'a wrong xsrf token is refused');
    t.match(forged.headers.get('content-type'), /^text\/html/);
    t.match(await forged.text(), /role="alert"/, 'with a readable page');
    t.ok(await signedInAgain(url, jar), 'and the session lives on');

    const again = await logoutPage(t, await browse(jar, `${url}/oidc/oauth2/sessions/logout`));
    const confirmed = await browse(jar, again.action, { method: 'POST', body: new URLSearchParams({ xsrf: again.xsrf, logout: 'yes' }) });
    t.equal(confirmed.status, 303);
    const done = await browse(jar, new URL(confirmed.headers.get('location')!, url).toString());
    t.equal(done.status, 200);
    t.match(await done.text(), /<h1>Signed out<\/h1>/, 'our signed-out page');
    t.notOk(await signedInAgain(url, jar), 'the session has ended: the next authorization asks for the login');
  });

  t.test(`post_logout_redirect_uri: registered ones are followed, others refused readably [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'bob', password: GOOD });
    await registerOperatorClient(ctx, {
      client_id: 'ops-portal',
      client_name: 'Ops <script>alert("x")</script> Portal',
      redirect_uris: ['http://localhost:4000/cb'],
      post_logout_redirect_uris: ['http://localhost:4000/bye'],
      first_party: true,
    });
    const { jar } = await signIn(url, { clientId: 'ops-portal', redirectUri: 'http://localhost:4000/cb', login: 'bob', password: GOOD });

    // SPEC §2 registers no post-logout URI for the default clients.
    const unregistered = await browse(jar, `${url}/oidc/oauth2/sessions/logout?client_id=cells-sync&post_logout_redirect_uri=${encodeURIComponent('http://localhost:3636')}`, {
      headers: asBrowser,
    });
    t.equal(unregistered.status, 400);
    t.match(await unregistered.text(), /role="alert">post_logout_redirect_uri not registered</, 'a readable refusal');

    // The RP posts its logout request (RP-Initiated Logout §2 allows GET or POST).
    const q = new URLSearchParams({ client_id: 'ops-portal', post_logout_redirect_uri: 'http://localhost:4000/bye', state: 'st-42' });
    const posted = await browse(jar, `${url}/oidc/oauth2/sessions/logout`, { method: 'POST', body: q });
    t.equal(posted.status, 303);
    const { action, xsrf } = await logoutPage(t, await browse(jar, posted.headers.get('location')!));
    const confirmed = await browse(jar, action, { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }) });
    t.equal(confirmed.status, 303);
    t.equal(confirmed.headers.get('location'), 'http://localhost:4000/bye?state=st-42', 'back to the registered URI with the state');

    // "No, stay signed in" ends only this client's part of the session; the page then names the
    // client, escaped.
    const { jar: jar2 } = await signIn(url, { clientId: 'ops-portal', redirectUri: 'http://localhost:4000/cb', login: 'bob', password: GOOD });
    const page = await logoutPage(t, await browse(jar2, `${url}/oidc/oauth2/sessions/logout?client_id=ops-portal`));
    const out = await browse(jar2, page.action, { method: 'POST', body: new URLSearchParams({ xsrf: page.xsrf }) });
    t.equal(out.headers.get('location'), `${url}/oidc/oauth2/sessions/logout/success?client_id=ops-portal`);
    const done = await (await browse(jar2, new URL(out.headers.get('location')!, url).toString())).text();
    t.match(done, /signed out of Ops &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; Portal/);
    t.notMatch(done, /<script>/);
  });

  t.test(`logout without a session: the provider's self-submitting form runs under our CSP [${kind}]`, async (t) => {
    const { url } = await buildTestApp(t, { kind });
    const res = await fetch(`${url}/oidc/oauth2/sessions/logout`);
    t.equal(res.status, 200);
    const html = await res.text();
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
    t.ok(script, 'the provider answers with its form_post page');
    const csp = res.headers.get('content-security-policy') ?? '';
    const digest = createHash('sha256').update(script!).digest('base64');
    t.match(csp, new RegExp(`script-src 'self' 'sha256-${digest.replace(/[+/=]/g, '\\$&')}'`), 'its one inline script is allowed by hash, nothing else inline');
    t.match(csp, /frame-ancestors 'none'/);
    t.equal(res.headers.get('x-frame-options'), 'DENY');
  });
}
