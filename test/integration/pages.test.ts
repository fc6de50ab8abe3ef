import t from 'tap';
import { manualClock } from '../../src/util/clock.ts';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, browse, CookieJar, follow, formAction, formValue, signIn } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { openLoginForm, submitLogin } from '../helpers/login-page.ts';
import { registerOperatorClient } from '../helpers/operator-client.ts';
import { checkPage } from '../helpers/page-checks.ts';

const GOOD = 'correct horse battery';
const sync = { clientId: 'cells-sync', redirectUri: 'http://localhost:3636' };
const asBrowser = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };
const EVIL = '"><script>alert(1)</script>';
const EVIL_ESCAPED = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;';

for (const kind of dbKinds()) {
  t.test(`the login page: accessible, escaped, locked down [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: GOOD });
    const form = await openLoginForm(url, { ...sync, extra: { login_hint: EVIL } });
    checkPage(t, form.res, form.html, 'login page');
    t.match(form.html, /<label for="login">[^<]+<\/label>\n<input id="login" name="login"/, 'the login field has a label');
    t.match(form.html, /<label for="password">[^<]+<\/label>\n<input id="password" name="password" type="password"/, 'so has the password');
    t.match(form.html, /<link rel="stylesheet" href="\/assets\/cells-auth.css">/);
    t.ok(form.html.includes(`value="${EVIL_ESCAPED}"`), 'the login hint is shown escaped');
    t.notOk(form.html.includes('<script>'), 'and never as markup');

    const refused = await submitLogin(url, form, EVIL, 'wrong password');
    if (refused instanceof URL) throw new Error('a wrong password went through');
    const html = await refused.text();
    checkPage(t, refused, html, 'refused login');
    t.match(html, /<p class="error" role="alert" id="login-error">/, 'the message is announced');
    t.match(html, /aria-describedby="login-error"/, 'and tied to the field');
    t.ok(html.includes(`value="${EVIL_ESCAPED}"`), 'the echoed login is escaped');
    t.notOk(html.includes('<script>'));

    const css = await fetch(`${url}/assets/cells-auth.css`);
    t.equal(css.status, 200);
    t.match(css.headers.get('content-type'), /^text\/css/);
  });

  t.test(`every form checks its CSRF token; a refusal is a readable 400 page [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: GOOD });
    const form = await openLoginForm(url, sync);
    const other = await openLoginForm(url, { ...sync, jar: new CookieJar() });

    for (const [what, csrf] of [['without a token', undefined], ['with a wrong token', 'x'.repeat(43)], ['with the token of another sign-in', other.csrf]] as const) {
      const body = new URLSearchParams({ login: 'alice', password: GOOD });
      if (csrf !== undefined) body.set('csrf', csrf);
      const res = await browse(form.jar, form.action, { method: 'POST', body });
      const html = await res.text();
      t.equal(res.status, 400, `login ${what}: 400`);
      checkPage(t, res, html, `login ${what}`);
      t.match(html, /role="alert">This form has expired\. Go back and try again\.</);
    }
    t.equal((await ctx.users.findByLogin('alice'))?.failed_logins, 0, 'refused forms never reach the password check');

    const abort = await browse(form.jar, form.action.replace(/\/login$/, '/abort'), { method: 'POST', body: new URLSearchParams({ csrf: 'nope' }) });
    t.equal(abort.status, 400, 'cancel checks it too');

    // Consent: an operator's client that is not first-party.
    await registerOperatorClient(ctx, { client_id: 'ops-tool', client_name: `Ops ${EVIL}`, redirect_uris: ['http://localhost:4000/cb'] });
    const consentFlow = await openLoginForm(url, { clientId: 'ops-tool', redirectUri: 'http://localhost:4000/cb', pkce: false });
    t.ok(consentFlow.html.includes(`to continue to <strong>Ops ${EVIL_ESCAPED}</strong>`), 'a client name is escaped on the login page');
    const consentPage = await submitLogin(url, consentFlow, 'alice', GOOD);
    if (consentPage instanceof URL) throw new Error('expected the consent page');
    const consentHtml = await consentPage.text();
    checkPage(t, consentPage, consentHtml, 'consent page');
    t.ok(consentHtml.includes(`<strong>Ops ${EVIL_ESCAPED}</strong> asks to act for <strong>alice</strong>`), 'and on the consent page');
    const consentAction = new URL(formAction(consentHtml, '/consent')!, url).toString();
    for (const csrf of [undefined, 'forged']) {
      const res = await browse(consentFlow.jar, consentAction, { method: 'POST', body: new URLSearchParams(csrf ? { csrf } : {}) });
      t.equal(res.status, 400, `consent ${csrf ? 'with a forged token' : 'without a token'}: 400`);
      t.match(await res.text(), /role="alert">This form has expired/);
    }
    const allowed = await follow(consentFlow.jar, url, await browse(consentFlow.jar, consentAction, { method: 'POST', body: new URLSearchParams({ csrf: formValue(consentHtml, 'csrf')! }) }));
    t.ok(allowed instanceof URL && allowed.searchParams.get('code'), 'with its token, consent goes through');
  });

  t.test(`unknown, expired and finished sign-ins get a readable page, never a 500 [${kind}]`, async (t) => {
    const clock = manualClock();
    const { ctx, url } = await buildTestApp(t, { kind, clock });
    await ctx.users.create({ login: 'alice', password: GOOD });
    const expired = /role="alert">This sign-in request has expired or is unknown\. Start again from the application\.</;

    for (const [what, path, init] of [
      ['an unknown interaction', '/interaction/no-such-thing', {}],
      ['a login post to an unknown interaction', '/interaction/no-such-thing/login', { method: 'POST', body: new URLSearchParams({ login: 'a', password: 'b', csrf: 'c' }) }],
      ['a uid that is markup', `/interaction/${encodeURIComponent(EVIL)}`, {}],
    ] as const) {
      const res = await fetch(`${url}${path}`, init);
      const html = await res.text();
      t.equal(res.status, 400, `${what}: 400`);
      checkPage(t, res, html, what);
    }
    t.match(await (await fetch(`${url}/interaction/no-such-thing`)).text(), expired);

    // The interaction outlives the page by config.ttl.interaction; after that, the same page.
    const form = await openLoginForm(url, sync);
    clock.advance((ctx.config.ttl.interaction + 1) * 1000);
    const late = await browse(form.jar, form.action.replace(/\/login$/, ''));
    t.equal(late.status, 400, 'an expired interaction: 400');
    t.match(await late.text(), expired);
    const latePost = await submitLogin(url, form, 'alice', GOOD);
    t.ok(!(latePost instanceof URL) && latePost.status === 400, 'posting the login of an expired interaction: 400');
    clock.set(Date.now());

    // The back button after signing in: the form posted again.
    const done = await openLoginForm(url, sync);
    t.ok((await submitLogin(url, done, 'alice', GOOD)) instanceof URL);
    const replay = await browse(done.jar, done.action, { method: 'POST', body: new URLSearchParams({ login: 'alice', password: GOOD, csrf: done.csrf }) });
    t.equal(replay.status, 400, 'a finished interaction posted again: 400');
    checkPage(t, replay, await replay.text(), 'replayed login');
  });

  t.test(`malformed posts to the pages get a 4xx page, never a 500 [${kind}]`, async (t) => {
    const { url } = await buildTestApp(t, { kind });
    const form = await openLoginForm(url, sync);
    const cookie = form.jar.header();
    const post = (contentType: string | undefined, body: string | undefined, to = form.action): RequestInit & { to: string } => ({
      to,
      method: 'POST',
      headers: { cookie, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    });
    const urlencoded = 'application/x-www-form-urlencoded';
    const cases: Array<[string, RequestInit & { to: string }]> = [
      ['plain text', post('text/plain', 'login=a')],
      ['JSON of the wrong types', post('application/json', JSON.stringify({ login: 5, password: [], csrf: form.csrf }))],
      ['broken JSON', post('application/json', '{')],
      ['broken percent-encoding', post(urlencoded, 'login=%zz&password=%')],
      ['a field given twice', post(urlencoded, `login=a&login=b&password=x&csrf=${form.csrf}`)],
      ['an oversized body', post(urlencoded, `login=${'a'.repeat(70_000)}`)],
      ['no body', post(undefined, undefined)],
      ['a consent before the login', post(urlencoded, `csrf=${form.csrf}`, form.action.replace(/\/login$/, '/consent'))],
      ['a forged interaction cookie', { to: form.action.replace(/\/login$/, ''), headers: { cookie: '_interaction=zzz; _interaction.sig=yyy' } }],
    ];
    for (const [what, { to, ...init }] of cases) {
      const res = await fetch(to, { ...init, redirect: 'manual' });
      const html = await res.text();
      t.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status}`);
      t.match(res.headers.get('content-type'), /^text\/html/, `${what}: a page`);
      t.match(html, /role="alert">[^<]+</, `${what}: that says what went wrong`);
    }
  });

  t.test(`the provider's own pages: error page escaped, form_post allowed by hash only [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: GOOD });
    const bad = await fetch(`${url}/oidc/oauth2/auth?client_id=${encodeURIComponent(EVIL)}&response_type=code`, { headers: asBrowser });
    const badHtml = await bad.text();
    t.equal(bad.status, 400);
    checkPage(t, bad, badHtml, 'provider error page');
    t.match(badHtml, /role="alert">client is invalid</);

    const { jar } = await signIn(url, { ...sync, login: 'alice', password: GOOD });
    const { url: postUrl } = authorizeUrl(url, { ...sync, extra: { response_mode: 'form_post', state: EVIL } });
    const posted = await browse(jar, postUrl);
    const html = await posted.text();
    t.equal(posted.status, 200, 'a session: the form_post page');
    t.match(html, /<form method="post" action="http:\/\/localhost:3636">/);
    t.match(html, /<input type="hidden" name="code" value="[\w-]+"\/>/);
    t.ok(html.includes(`name="state" value="${EVIL_ESCAPED}"`), 'the state is escaped');
    const csp = posted.headers.get('content-security-policy') ?? '';
    t.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/, 'its one inline script is allowed by its hash');
    t.notMatch(csp, /unsafe-inline/);
    t.equal(posted.headers.get('x-frame-options'), 'DENY');
  });

  t.test(`cookies: HttpOnly and SameSite, Secure when the public URL is https [${kind}]`, async (t) => {
    const publicUrl = 'https://auth.example.test';
    const { ctx, config } = await buildTestApp(t, { kind, config: { publicUrl } });
    const url = `http://${config.bind}`;
    await ctx.users.create({ login: 'alice', password: GOOD });
    const jar = new CookieJar();
    const setCookies: string[] = [];
    // The server believes its public URL: its redirects name https://auth.example.test, which this
    // test reaches at the listening address.
    const local = (u: string) => {
      const target = new URL(u, publicUrl);
      return target.origin === publicUrl ? `${url}${target.pathname}${target.search}` : undefined;
    };
    async function go(u: string, init: RequestInit = {}): Promise<Response | URL> {
      let res = await browse(jar, u, init);
      for (let i = 0; i < 10; i++) {
        setCookies.push(...res.headers.getSetCookie());
        const location = res.headers.get('location');
        if (!location) return res;
        const next = local(location);
        if (!next) return new URL(location);
        res = await browse(jar, next);
      }
      throw new Error('too many redirects');
    }
    const start = authorizeUrl(url, sync).url;
    const page = await go(start);
    if (page instanceof URL) throw new Error('expected the login page');
    const html = await page.text();
    const back = await go(new URL(formAction(html, '/login')!, url).toString(), {
      method: 'POST',
      body: new URLSearchParams({ login: 'alice', password: GOOD, csrf: formValue(html, 'csrf')! }),
    });
    t.ok(back instanceof URL && back.searchParams.get('code'), 'the flow works behind an https public URL');
    t.ok(setCookies.length >= 4, `cookies were set (${setCookies.length})`);
    for (const c of setCookies) {
      const name = c.split('=')[0];
      t.match(c, /;\s*httponly/i, `${name}: HttpOnly`);
      t.match(c, /;\s*samesite=lax/i, `${name}: SameSite=Lax`);
      t.match(c, /;\s*secure/i, `${name}: Secure`);
    }

    const plain = await buildTestApp(t, { kind });
    const plainRes = await browse(new CookieJar(), authorizeUrl(plain.url, sync).url);
    const plainCookies = plainRes.headers.getSetCookie();
    t.ok(plainCookies.length > 0);
    t.ok(plainCookies.every((c) => /httponly/i.test(c) && /samesite=lax/i.test(c) && !/;\s*secure/i.test(c)), 'plain HTTP: HttpOnly and SameSite, not Secure');
  });
}
