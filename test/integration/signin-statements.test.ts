import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, browse, CookieJar, formAction, formValue, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { describeStatements, recordStatements, type Statement } from '../helpers/statements.ts';

// What one sign-in costs the database: the code + PKCE flow through the login form, step by step,
// and the token request. The bound is what the flow needs today; a change that adds a statement
// to it fails here and has to say why (npm run bench, scenario code-flow, measures the cost).
// The account is read once, by the login form: the provider's two lookups of it by id (resume,
// token) come from the account cache (src/accounts/account-cache.ts). The token request reads the
// code with its grant and then redeems it and stores the tokens in one statement (request-store.ts);
// so does a refresh.
const MAX_STATEMENTS = 10;
const MAX_REFRESH_STATEMENTS = 2;

for (const kind of dbKinds()) {
  t.test(`statements per sign-in and token exchange [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: 'correct horse battery' });
    const redirectUri = 'http://localhost:3636/servers/callback';

    const signInOnce = async () => {
      const jar = new CookieJar();
      const steps: { name: string; statements: Statement[] }[] = [];
      const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        const recording = recordStatements();
        const out = await fn();
        // The sign-in's audit event is queued (written with others under load): it counts here.
        await ctx.audit.flush();
        steps.push({ name, statements: recording.stop() });
        return out;
      };
      const { url: authorize, pkce } = authorizeUrl(url, { clientId: 'cells-sync', redirectUri });
      const toLogin = (await step('authorize', () => browse(jar, authorize))).headers.get('location')!;
      const page = await (await step('login page', () => browse(jar, new URL(toLogin, url).toString()))).text();
      const action = new URL(formAction(page, '/login')!, url).toString();
      const body = new URLSearchParams({ login: 'alice', password: 'correct horse battery', csrf: formValue(page, 'csrf')! });
      let location = (await step('login form', () => browse(jar, action, { method: 'POST', body }))).headers.get('location')!;
      for (let i = 0; i < 3 && !location.startsWith(redirectUri); i++) {
        location = (await step('resume', () => browse(jar, new URL(location, url).toString()))).headers.get('location')!;
      }
      const code = new URL(location).searchParams.get('code');
      t.ok(code, 'the code comes back');
      const tokens = await step('token', () => tokenRequest(url, { grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: pkce.verifier }));
      t.equal(tokens.status, 200, 'tokens are issued');
      return { steps, refreshToken: tokens.body.refresh_token as string };
    };

    // The first sign-in also warms what is loaded once (keys, the dummy hash); the second is measured.
    await signInOnce();
    const { steps, refreshToken } = await signInOnce();
    const total = steps.reduce((n, s) => n + s.statements.length, 0);
    const detail = steps.map((s) => `${s.name}: ${s.statements.length}\n${describeStatements(s.statements)}`).join('\n');
    t.ok(total <= MAX_STATEMENTS, `${total} statements per sign-in (at most ${MAX_STATEMENTS})`) || t.comment(detail);

    const recording = recordStatements();
    const refreshed = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'cells-sync' });
    const statements = recording.stop();
    t.equal(refreshed.status, 200, 'the refresh token is redeemed');
    t.ok(statements.length <= MAX_REFRESH_STATEMENTS, `${statements.length} statements per refresh (at most ${MAX_REFRESH_STATEMENTS})`) || t.comment(describeStatements(statements));
  });
}
