import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { signIn } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { checkPage } from '../helpers/page-checks.ts';

const EVIL = '"><script>alert(1)</script>';
const EVIL_ESCAPED = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;';

for (const kind of dbKinds()) {
  t.test(`the out-of-band page [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: 'correct horse battery' });

    for (const path of ['/oauth2/oob', '/oauth/oob']) {
      // cells-client (`cec`) registers the OOB page as its redirect URI and sends no PKCE.
      const { callback, code } = await signIn(url, { clientId: 'cells-client', redirectUri: `${url}${path}`, pkce: false, login: 'alice', password: 'correct horse battery' });
      t.equal(callback.pathname, path, `${path}: the sign-in ends on the page`);
      const res = await fetch(callback);
      const html = await res.text();
      t.equal(res.status, 200);
      checkPage(t, res, html, path);
      t.ok(html.includes(`<input id="code" class="code" type="text" readonly value="${code}" aria-label="Authorization code">`), 'shows the code');
      t.match(html, /<button type="button" id="copy" data-target="code">Copy<\/button>/, 'with a copy button');
      t.match(html, /<script src="\/assets\/oob.js" defer><\/script>/, 'whose script is an external file');
      t.match(html, /role="status" aria-live="polite"/, 'and a status line for its result');
    }

    const js = await fetch(`${url}/assets/oob.js`);
    t.equal(js.status, 200);
    t.match(js.headers.get('content-type'), /^text\/javascript/);
    t.match(await js.text(), /navigator\.clipboard\.writeText/);

    const denied = await fetch(`${url}/oauth2/oob?${new URLSearchParams({ error: 'access_denied', error_description: 'The user cancelled the sign-in.' })}`);
    const deniedHtml = await denied.text();
    t.equal(denied.status, 400);
    checkPage(t, denied, deniedHtml, 'error');
    t.match(deniedHtml, /<p class="error" role="alert">The user cancelled the sign-in\.<\/p>/, 'the description, readable');
    t.match(deniedHtml, /Error code: <code>access_denied<\/code>/);
    t.notMatch(deniedHtml, /id="copy"|oob\.js/, 'no copy button without a code');

    const nothing = await fetch(`${url}/oauth/oob`);
    t.equal(nothing.status, 400);
    t.match(await nothing.text(), /role="alert">No code was received\.</);

    const evil = await fetch(`${url}/oauth2/oob?${new URLSearchParams({ code: EVIL })}`);
    const evilHtml = await evil.text();
    t.ok(evilHtml.includes(`value="${EVIL_ESCAPED}"`), 'a code is escaped');
    t.notOk(evilHtml.includes('<script>'));
    const evilError = await (await fetch(`${url}/oauth/oob?${new URLSearchParams({ error: EVIL, error_description: EVIL })}`)).text();
    t.ok(evilError.includes(`role="alert">${EVIL_ESCAPED}</p>`), 'an error description is escaped');
    t.ok(evilError.includes(`<code>${EVIL_ESCAPED}</code>`), 'an error code is escaped');
    t.notOk(evilError.includes('<script>'));

    const huge = await fetch(`${url}/oauth2/oob?code=${'a'.repeat(5000)}`);
    t.equal(huge.status, 400, 'an oversized value: 400');
    checkPage(t, huge, await huge.text(), 'oversized');
    const twice = await fetch(`${url}/oauth2/oob?code=a&code=b`);
    t.equal(twice.status, 400, 'a repeated parameter: 400, not a 500');
    checkPage(t, twice, await twice.text(), 'repeated');
  });
}
