import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { launchBrowser, listenInRange } from '../helpers/browser.ts';

// Once, in a real browser (Debian's chromium, headless): the pages as a person meets them, under the
// real CSP. One database kind is enough here: the integration tests cover both.
const kind = dbKinds()[0]!;

/** WCAG 2.x contrast ratio of two computed `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const luminance = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}
const SHOTS = process.env.CELLS_AUTH_SCREENSHOTS ?? '/tmp';

t.test(`CellsSync signs in through our pages in chromium [${kind}]`, async (t) => {
  const { ctx, url } = await buildTestApp(t, { kind });
  await ctx.users.create({ login: 'alice', password: 'correct horse battery' });
  // SPEC §2: cells-sync listens on a loopback port of 3636-3666.
  const client = await listenInRange(t, 3636, 3666);
  const redirectUri = `http://localhost:${client.port}`;
  const { page, context, violations } = await launchBrowser(t);

  const { url: start, pkce, state } = authorizeUrl(url, { clientId: 'cells-sync', redirectUri });
  await page.goto(start);
  t.match(new URL(page.url()).pathname, /^\/interaction\/[\w-]+$/, 'the authorization request lands on our login page');
  t.equal(await page.title(), 'Sign in · cells-auth');
  t.equal(await page.getAttribute('html', 'lang'), 'en');
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
  t.match(await page.locator('.lead').textContent(), /CellsSync Application/, 'it names the client');
  t.equal(await page.evaluate('getComputedStyle(document.body).display'), 'grid', 'the stylesheet applies');
  t.equal(await page.evaluate('document.activeElement.id'), 'login', 'typing starts in the login field');
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const [fg, bg] = (await page.evaluate(
      "(() => { const s = getComputedStyle(document.querySelector('button[type=submit]')); return [s.color, s.backgroundColor]; })()",
    )) as [string, string];
    t.ok(contrast(fg, bg) >= 4.5, `${colorScheme}: the button text is readable (WCAG AA, ${contrast(fg, bg).toFixed(1)}:1)`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: `${SHOTS}/cells-auth-login.png`, fullPage: true });

  await page.getByLabel('Login').fill('alice');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  t.equal(await page.getByRole('alert').textContent(), 'The login or password is incorrect, or the account is locked.', 'a wrong password: the message');
  t.equal(await page.getByLabel('Login').inputValue(), 'alice', 'the login is kept');
  t.equal(await page.getByLabel('Password').inputValue(), '', 'the password is not');
  t.equal(await page.evaluate('document.activeElement.id'), 'password', 'and the focus is on the password, to try again');
  await page.screenshot({ path: `${SHOTS}/cells-auth-login-error.png`, fullPage: true });

  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const callback = await client.waitFor((r) => r.url.pathname === '/');
  await page.waitForURL((u) => u.origin === redirectUri);
  t.equal(callback.method, 'GET');
  t.equal(callback.url.searchParams.get('state'), state, 'back on the loopback redirect URI with the state');
  const code = callback.url.searchParams.get('code');
  t.ok(code, 'and a code');
  const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: pkce.verifier });
  t.equal(tokens.status, 200, 'the code redeems');

  // The provider's own form_post page (an inline script allowed by its hash) submits under our CSP.
  const { url: again } = authorizeUrl(url, { clientId: 'cells-sync', redirectUri, extra: { response_mode: 'form_post' } });
  const seen = client.received.length;
  await page.goto(again);
  const posted = await client.waitFor((r) => r.url.pathname === '/', seen);
  t.equal(posted.method, 'POST', 'with a session, form_post submits by itself');
  t.ok(new URLSearchParams(posted.body).get('code'), 'carrying a code');

  // The out-of-band page: the copy button puts the code on the clipboard.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  await page.goto(`${url}/oauth2/oob?code=oob-code-123`);
  t.equal(await page.getByLabel('Authorization code').inputValue(), 'oob-code-123');
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('status').filter({ hasText: /\S/ }).waitFor();
  const status = await page.getByRole('status').textContent();
  t.ok(status === 'Copied.' || status === 'Selected: press Ctrl+C (⌘C) to copy.', `the copy button reports (${status})`);
  if (status === 'Copied.') t.equal(await page.evaluate('navigator.clipboard.readText()'), 'oob-code-123', 'the code is on the clipboard');
  await page.screenshot({ path: `${SHOTS}/cells-auth-oob.png`, fullPage: true });

  // Logout: our page, the provider's form, the signed-out page.
  await page.goto(`${url}/oidc/oauth2/sessions/logout`);
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign out?');
  await page.screenshot({ path: `${SHOTS}/cells-auth-logout.png`, fullPage: true });
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
  t.pass('signed out');

  t.same(violations, [], 'no Content-Security-Policy violation on any page');
});
