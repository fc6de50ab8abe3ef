import t from 'tap';
import { sql } from 'kysely';
import { dbKinds } from '../helpers/database.ts';
import { browse, CookieJar, signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

const PASSWORD = 'Sup3r-Secret-Passw0rd';

for (const kind of dbKinds()) {
  t.test(`tokens issued counts only the redemptions that won [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'fay', password: PASSWORD });
    const redirectUri = 'http://localhost:3640/servers/callback';
    const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'fay', password: PASSWORD });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
    // Five redemptions of one refresh token at once: the provider accepts each until the last write,
    // where one wins (request-store.ts).
    const results = await Promise.all(
      Array.from({ length: 5 }, () => tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: 'cells-sync' })),
    );
    t.equal(results.filter((r) => r.status === 200).length, 1, 'one redemption wins');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    t.match(metrics, /cells_auth_tokens_issued_total\{grant="refresh_token"\} 1\n/, 'and only it is counted');
  });

  t.test(`metrics, audit trail, and logs that hold no secret [${kind}]`, async (t) => {
    // Per-request lines are debug-level (src/http/request-logging.ts); this test reads them.
    const { ctx, url, logs } = await buildTestApp(t, { kind, config: { log: { level: 'debug' } } });
    await ctx.users.create({ login: 'erin', password: PASSWORD });
    const redirectUri = 'http://localhost:3640/servers/callback';

    // One failed and one good sign-in, tokens, a refresh, and the OOB page with a code in its URL.
    const jar = new CookieJar();
    const failed = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'erin', password: 'wrong-password-123' }).catch((e: Error) => e);
    t.type(failed, Error, 'a wrong password does not sign in');
    const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'erin', password: PASSWORD, jar });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
    const refreshed = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: 'cells-sync' });
    t.equal(refreshed.status, 200);
    await browse(jar, `${url}/oauth2/oob?code=oob-code-value-123456`);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    t.match(metrics, /cells_auth_http_requests_total\{method="POST",route="\/oidc\/oauth2\/token",status="200"\} 2/, 'token requests counted per route and status');
    t.match(metrics, /cells_auth_tokens_issued_total\{grant="authorization_code"\} 1/);
    t.match(metrics, /cells_auth_tokens_issued_total\{grant="refresh_token"\} 1/);
    t.match(metrics, /cells_auth_login_failures_total\{reason="credentials"\} 1/);
    t.match(metrics, /cells_auth_db_pool_connections\{state="total"\} \d+/);
    t.match(metrics, /cells_auth_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/interaction\/:uid"\}/);

    await new Promise((r) => setTimeout(r, 50)); // audit writes are not awaited by the login
    const events = await ctx.audit.list({ limit: 10 });
    const actions = events.map((e) => `${e.action}:${e.outcome}`);
    t.ok(actions.includes('login.failure:failure'), 'failed sign-in audited');
    t.ok(actions.includes('login.success:success'), 'good sign-in audited');
    const success = events.find((e) => e.action === 'login.success')!;
    t.equal(success.actor.login, 'erin');
    t.equal(success.address, '127.0.0.1');

    const stored = JSON.stringify((await sql`select * from audit_events`.execute(ctx.db.db)).rows);
    const text = logs();
    t.ok(text.includes('"url":"/oauth2/oob?code=[redacted]"'), 'the OOB request is logged with its code redacted');
    const secrets = {
      password: PASSWORD,
      wrongPassword: 'wrong-password-123',
      accessToken: String(tokens.body.access_token),
      refreshToken: String(tokens.body.refresh_token),
      newRefreshToken: String(refreshed.body.refresh_token),
      idToken: String(tokens.body.id_token),
      code,
      verifier,
      oobCode: 'oob-code-value-123456',
      // The `_interaction*` cookies hold the interaction uid, which is in the page URLs by design;
      // their `.sig` companions and the session cookies are what must never be logged.
      ...Object.fromEntries([...jar.cookies].filter(([k]) => !/^_interaction(_resume)?$/.test(k)).map(([k, v]) => [`cookie ${k}`, v])),
    };
    for (const [name, value] of Object.entries(secrets)) {
      t.notOk(text.includes(value), `the log never holds the ${name}`);
      t.notOk(stored.includes(value), `the audit trail never holds the ${name}`);
    }
  });
}
