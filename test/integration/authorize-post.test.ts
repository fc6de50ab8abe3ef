import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, browse, CookieJar, follow, formAction, formValue, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

// SPEC §1 / OIDC Core §3.1.2.1: the authorization endpoint takes POST as well as GET.
for (const kind of dbKinds()) {
  t.test(`an authorization request sent as a POST form completes [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'hana', password: 'correct horse battery' });
    const redirectUri = 'http://localhost:3660/servers/callback';
    const { url: getUrl, pkce, state } = authorizeUrl(url, { clientId: 'cells-sync', redirectUri });
    const params = new URL(getUrl).searchParams;
    const jar = new CookieJar();
    const posted = await browse(jar, `${url}/oidc/oauth2/auth`, { method: 'POST', body: params });
    t.equal(posted.status, 303, 'the POST is answered with a redirect the browser follows as a GET');
    const page = await follow(jar, url, posted);
    if (page instanceof URL) throw new Error(`expected the login page, went to ${page}`);
    const html = await page.text();
    const action = formAction(html, '/login');
    t.ok(action, 'the login form is shown');
    const done = await follow(jar, url, await browse(jar, new URL(action!, url).toString(), {
      method: 'POST',
      body: new URLSearchParams({ login: 'hana', password: 'correct horse battery', csrf: formValue(html, 'csrf') ?? '' }),
    }));
    t.ok(done instanceof URL, 'back at the client');
    const callback = done as URL;
    t.equal(callback.searchParams.get('state'), state);
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: pkce.verifier });
    t.equal(tokens.status, 200, 'the code redeems');
  });
}
