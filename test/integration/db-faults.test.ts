import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createContext } from '../../src/context.ts';
import { createLogger } from '../../src/util/logger.ts';
import { freshDatabase } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { freePort } from '../helpers/harness.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

// Postgres only: PGlite lives inside the process and cannot become unreachable.
t.test('the database goes away mid-load and comes back', async (t) => {
  const db = await freshDatabase('postgres');
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(db.url!).port || 5432) });
  const viaProxy = new URL(db.url!);
  viaProxy.port = String(proxy.port);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({ env: {}, overrides: { publicUrl: url, log: { level: 'silent' } } });
  const ctx = await createContext(config, {
    database: { kind: 'postgres', url: viaProxy.toString(), poolSize: 4 },
    log: createLogger('silent'),
  });
  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port });
  t.teardown(async () => {
    await app.close();
    await ctx.close();
    await proxy.close();
    await db.drop();
  });

  await ctx.users.create({ login: 'frank', password: 'correct horse battery' });
  await ctx.clients.register({ clientId: 'rs', secret: 'rs-secret-rs-secret-rs-secret-rs-secret', introspect: true });
  const redirectUri = 'http://localhost:3636';
  const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'frank', password: 'correct horse battery' });
  const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
  t.equal(tokens.status, 200);
  const basic = `Basic ${Buffer.from('rs:rs-secret-rs-secret-rs-secret-rs-secret').toString('base64')}`;
  const introspect = () =>
    fetch(`${url}/oidc/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: String(tokens.body.access_token) }),
    });
  t.match(await (await introspect()).json(), { active: true }, 'introspection works while the database is up');

  // Requests in flight while the database is cut, then the requests after it.
  const inFlight = Array.from({ length: 10 }, () => tokenRequest(url, { grant_type: 'refresh_token', refresh_token: 'not-a-real-token', client_id: 'cells-sync' }));
  await proxy.cut();
  const settled = await Promise.all(inFlight);
  t.ok(settled.every((r) => r.status === 400 || r.status === 503), `requests in flight end in 400 or 503, never 500 (${settled.map((r) => r.status)})`);

  const ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 503, 'readiness goes down');
  t.equal((await fetch(`${url}/healthz`)).status, 200, 'liveness stays up');

  const refresh = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: 'cells-sync' });
  t.equal(refresh.status, 503, 'refresh answers 503');
  t.equal(refresh.body.error, 'temporarily_unavailable');

  const intro = await introspect();
  t.equal(intro.status, 503, 'introspection answers 503, never active:false');

  const info = await fetch(`${url}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
  t.equal(info.status, 503, 'userinfo answers 503');

  const page = await fetch(`${url}/oidc/oauth2/auth?client_id=cells-sync&redirect_uri=${encodeURIComponent(redirectUri)}&response_type=code&scope=openid&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, { redirect: 'manual' });
  t.ok(page.status === 503 || (page.status === 303 && /error=temporarily_unavailable/.test(page.headers.get('location') ?? '')), `an authorization request fails as unavailable (${page.status})`);

  await proxy.restore();
  let recovered = false;
  for (let i = 0; i < 50 && !recovered; i++) {
    recovered = (await fetch(`${url}/readyz`)).status === 200;
    if (!recovered) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(recovered, 'readiness comes back by itself, without a restart');
  t.match(await (await introspect()).json(), { active: true }, 'the access token issued before the fault is still good');
  const after = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: 'cells-sync' });
  t.equal(after.status, 200, 'the refresh token issued before the fault still works');
});
