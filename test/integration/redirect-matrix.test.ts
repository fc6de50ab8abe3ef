import t, { type Test } from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, CookieJar, signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

// SPEC §2: for every default client, the URIs it may use are accepted (a code comes back to exactly
// that URI and redeems), and every near miss is an error page on our server: 400, HTML, no redirect.

const PASSWORD = 'correct horse battery';

function matrix(pub: string) {
  const host = new URL(pub).host; // 127.0.0.1:<port>
  const hostname = new URL(pub).hostname;
  const port = new URL(pub).port;
  return {
    'cells-sync': {
      accept: [
        'http://localhost:3636',
        'http://localhost:3666',
        'http://localhost:3636/servers/callback',
        'http://localhost:3666/servers/callback',
        'http://localhost:3651/servers/callback',
        'http://localhost:3000',
        'http://localhost:3000/servers/callback',
      ],
      reject: [
        'http://localhost:3635',
        'http://localhost:3667',
        'http://localhost:3635/servers/callback',
        'http://localhost:3667/servers/callback',
        'http://localhost:3001/servers/callback',
        'http://localhost:3636/servers/callback/extra',
        'http://localhost:3636/extra',
        'http://localhost:3636/servers/callback?x=1',
        'http://localhost:3636/',
        'http://localhost:3636/servers/callback/',
        'http://LOCALHOST:3636/servers/callback',
        'http://localhost:3636/Servers/Callback',
        'http://evil@localhost:3636/servers/callback',
        'http://localhost:3636@evil.example/servers/callback',
        'http://localhost:3636/servers/callback/%2e%2e/%2e%2e/evil',
        'http://localhost:3636/%2e%2e/servers/callback',
        'http://evil.example:3636/servers/callback',
        'http://127.0.0.1:3636/servers/callback',
        'http://[::1]:3636/servers/callback',
        'https://localhost:3636/servers/callback',
        'cellsauth://localhost:3636/servers/callback',
        'http://localhost:3636/servers/callback#frag',
        'http://localhost/servers/callback',
      ],
    },
    'cells-mobile': {
      accept: [`cellsauth://${hostname}`, 'cellsauth://callback'],
      reject: [
        'cellsauth://serverName',
        'cellsauth://callback/',
        'cellsauth://callback/extra',
        'CELLSAUTH://callback',
        'cellsauth://Callback',
        'cellsauth://evil@callback',
        'cellsauth://callback/%2e%2e',
        'cellsauth://evil.example',
        'cellsauth://localhost',
        'http://callback',
        `http://${hostname}`,
        'https://callback',
        'cellsauth://callback#frag',
        `cellsauth://${host}`,
      ],
    },
    'cells-client': {
      accept: ['http://localhost:3636', 'http://localhost:3000/servers/callback', `${pub}/oauth/oob`, `${pub}/oauth2/oob`],
      reject: [
        'http://localhost:3635',
        'http://localhost:3637',
        'http://localhost:3636/servers/callback',
        'http://localhost:3000',
        'http://localhost:3636/',
        `${pub}/oauth/oob/`,
        `${pub}/oauth/oob/extra`,
        `${pub}/OAUTH/oob`,
        `http://127.0.0.1:${port}/oauth2/oob?x=1`,
        `${pub}/oauth/%2e%2e/oauth/oob`,
        `http://localhost:${port}/oauth/oob`,
        `https://${host}/oauth/oob`,
        `http://evil@${host}/oauth/oob`,
        `http://evil.example/oauth/oob`,
        `http://evil.example:${port}/oauth2/oob`,
        'http://127.0.0.1:3636',
        'cellsauth://localhost:3636',
        `${pub}/oauth2/oob#frag`,
      ],
    },
  };
}

async function expectErrorPage(t: Test, res: Response, what: string): Promise<void> {
  t.equal(res.status, 400, `${what}: 400`);
  t.equal(res.headers.get('location'), null, `${what}: no redirect`);
  t.match(res.headers.get('content-type'), /^text\/html/, `${what}: an HTML page`);
  t.match(await res.text(), /Sign-in cannot continue/, `${what}: our error page`);
}

for (const kind of dbKinds()) {
  t.test(`redirect-URI matrix of the default clients [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    const jar = new CookieJar();

    for (const [clientId, cases] of Object.entries(matrix(url))) {
      for (const redirectUri of cases.accept) {
        // One browser: the first sign-in shows the form, the others pass silently on its session.
        const pkce = clientId === 'cells-sync';
        const { code, callback, verifier } = await signIn(url, { clientId, redirectUri, login: 'alice', password: PASSWORD, jar, pkce, consent: false });
        // The provider appends the query to the URI as a URL, which serializes `http://h:p` as `http://h:p/`.
        t.equal(callback.href.split('?')[0], new URL(redirectUri).href, `${clientId} ${redirectUri}: back to exactly that URI`);
        const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, ...(pkce ? { code_verifier: verifier } : {}) });
        t.equal(tokens.status, 200, `${clientId} ${redirectUri}: the code redeems (${JSON.stringify(tokens.body)})`);
      }
      for (const redirectUri of cases.reject) {
        const res = await fetch(authorizeUrl(url, { clientId, redirectUri }).url, { redirect: 'manual', headers: { cookie: jar.header() } });
        await expectErrorPage(t, res, `${clientId} ${redirectUri}`);
      }
    }
  });

  t.test(`an unknown client gets an error page, never a redirect [${kind}]`, async (t) => {
    const { url } = await buildTestApp(t, { kind });
    for (const redirectUri of ['http://localhost:3636', 'https://evil.example/cb']) {
      const res = await fetch(authorizeUrl(url, { clientId: 'no-such-client', redirectUri }).url, { redirect: 'manual' });
      await expectErrorPage(t, res, `unknown client, ${redirectUri}`);
    }
    const noClient = await fetch(`${url}/oidc/oauth2/auth?response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`, { redirect: 'manual' });
    await expectErrorPage(t, noClient, 'no client_id');
  });
}
