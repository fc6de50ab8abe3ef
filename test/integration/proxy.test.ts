import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueLeaf, loadOrCreateRootCa } from '../../src/tls/local-ca.ts';
import { startCaddy } from '../helpers/caddy.ts';
import { H2Browser, signInOverH2 } from '../helpers/h2-browser.ts';
import { authorizeUrl, formAction, formValue } from '../helpers/flow.ts';
import { freePort } from '../helpers/harness.ts';
import { startTestServer } from '../helpers/server.ts';
import { h2, h2Session, https1, tempDir } from '../helpers/tls.ts';

interface Tap {
  teardown(fn: () => unknown): void;
}

/**
 * cells-auth behind caddy (TLS, HTTP/2) on loopback. The public URL is caddy's. The upstream speaks
 * TLS itself (tls.mode self: its root also signs caddy's certificate, so one root is trusted) or,
 * as in docker/compose.yaml, plain HTTP with caddy terminating TLS.
 */
async function behindCaddy(t: Tap, trustedProxies: string[], upstreamTls: 'self' | 'none' = 'self') {
  const dataDir = await tempDir(t);
  const caddyPort = await freePort();
  const publicUrl = `https://127.0.0.1:${caddyPort}`;
  const up = await startTestServer(t, {
    // Request lines (with the client address) are logged at debug.
    config: { publicUrl, dataDir, trustedProxies, tls: { mode: upstreamTls }, login: { throttle: { perAddress: 2, windowSeconds: 300 } }, log: { level: 'debug' } },
  });
  const ca = await loadOrCreateRootCa(join(dataDir, 'certs'), new Date());
  const root = await readFile(join(dataDir, 'certs', 'rootCA.pem'), 'utf8');
  const caddyCert = await issueLeaf(ca, ['127.0.0.1'], new Date(), 7);
  const upstream = `${upstreamTls === 'self' ? 'https' : 'http'}://127.0.0.1:${up.port}`;
  await startCaddy(t, { port: caddyPort, ...caddyCert, upstream, upstreamCa: upstreamTls === 'self' ? root : undefined });
  return { up, root, publicUrl };
}

/** Failed sign-in attempts from `localAddress` through the proxy: the statuses of the login posts. */
async function failedLogins(t: Tap, publicUrl: string, root: string, localAddress: string, attempts: number): Promise<number[]> {
  const session = await h2Session(t, publicUrl, { ca: root, localAddress });
  const browser = new H2Browser(session);
  const { url } = authorizeUrl(publicUrl, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636' });
  const start = await browser.go(new URL(url).pathname + new URL(url).search);
  const page = await browser.go(new URL(String(start.headers.location), publicUrl).pathname);
  const action = new URL(formAction(page.body, '/login')!, publicUrl).pathname;
  const csrf = formValue(page.body, 'csrf')!;
  const statuses: number[] = [];
  for (let i = 0; i < attempts; i++) statuses.push((await browser.go(action, { form: { login: 'alice', password: 'wrong password', csrf } })).status);
  return statuses;
}

for (const upstreamTls of ['self', 'none'] as const) t.test(`behind caddy (HTTP/2, TLS), upstream tls.mode ${upstreamTls}: issuer and redirects stay on the public URL`, async (t) => {
  const { up, root, publicUrl } = await behindCaddy(t, ['127.0.0.1'], upstreamTls);
  await up.ctx.users.create({ login: 'alice', password: 'correct horse battery' });

  const session = await h2Session(t, publicUrl, { ca: root });
  t.equal(session.alpnProtocol, 'h2', 'the client speaks HTTP/2 to caddy');
  const discovery = await h2(session, '/oidc/.well-known/openid-configuration');
  t.equal(discovery.status, 200);
  t.match(String(discovery.headers.via ?? discovery.headers.server ?? ''), /caddy/i, 'caddy answered');
  const doc = JSON.parse(discovery.body);
  t.equal(doc.issuer, `${publicUrl}/oidc`, 'the issuer is the public URL');
  t.equal(doc.authorization_endpoint, `${publicUrl}/oidc/oauth2/auth`);

  // Straight to the upstream, with its own host: still the configured public URL (never Host).
  const directUrl = `${upstreamTls === 'self' ? 'https' : 'http'}://127.0.0.1:${up.port}/oidc/.well-known/openid-configuration`;
  const direct = await https1(directUrl, { ca: root, headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' } });
  t.equal(JSON.parse(direct.body).issuer, `${publicUrl}/oidc`);

  const browser = new H2Browser(session);
  const redirectUri = 'http://localhost:3636/servers/callback';
  const { callback, locations } = await signInOverH2(browser, publicUrl, { clientId: 'cells-sync', redirectUri, login: 'alice', password: 'correct horse battery' });
  t.ok(callback.searchParams.get('code'), 'the sign-in through the proxy reaches the client with a code');
  const absolute = locations.filter((l) => /^https?:\/\//.test(l) && !l.startsWith(redirectUri));
  t.ok(absolute.length > 0);
  t.ok(absolute.every((l) => l.startsWith(`${publicUrl}/`)), `every absolute redirect is on ${publicUrl}`);
  t.ok(browser.setCookieLines.length > 0 && browser.setCookieLines.every((l) => /;\s*secure/i.test(l)), 'cookies are Secure: the public URL is https');
  t.ok(browser.responses.every((r) => r.headers['strict-transport-security']), 'HSTS on every response');
  const discoveryA = JSON.parse((await h2(session, '/a/config/discovery')).body);
  t.equal(discoveryA.Endpoints.oidc, `${publicUrl}/oidc`);
});

t.test('X-Forwarded-For is believed from trustedProxies only', async (t) => {
  t.test('caddy trusted: each client has its own address (throttle per client, logged)', async (t) => {
    const { up, root, publicUrl } = await behindCaddy(t, ['127.0.0.1']);
    t.same(await failedLogins(t, publicUrl, root, '127.0.0.2', 3), [401, 401, 429], 'the third failure from 127.0.0.2 is throttled');
    t.same(await failedLogins(t, publicUrl, root, '127.0.0.3', 1), [401], '127.0.0.3 has its own allowance');
    t.match(up.logs(), /"remoteAddress":"127\.0\.0\.2"/, 'the log names the real client');

    // A client at 127.0.0.4 that talks to the upstream directly is no trusted proxy: its X-Forwarded-For is ignored.
    const spoof = await https1(`https://127.0.0.1:${up.port}/healthz`, { ca: root, localAddress: '127.0.0.4', headers: { 'x-forwarded-for': '198.51.100.7' } });
    t.equal(spoof.status, 200);
    t.notMatch(up.logs(), /198\.51\.100\.7/, 'a forged address from an untrusted peer is not believed');
    t.match(up.logs(), /"remoteAddress":"127\.0\.0\.4"/, 'the peer\'s own address is used');

    // Through caddy, a forged X-Forwarded-For is replaced by caddy with the address it saw.
    const viaCaddy = await https1(`${publicUrl}/healthz`, { ca: root, localAddress: '127.0.0.5', headers: { 'x-forwarded-for': '198.51.100.8' } });
    t.equal(viaCaddy.status, 200);
    t.notMatch(up.logs(), /198\.51\.100\.8/);
    t.match(up.logs(), /"remoteAddress":"127\.0\.0\.5"/);
  });

  t.test('caddy not trusted: every client looks like the proxy (one shared throttle)', async (t) => {
    const { up, root, publicUrl } = await behindCaddy(t, []);
    t.same(await failedLogins(t, publicUrl, root, '127.0.0.2', 2), [401, 401]);
    t.same(await failedLogins(t, publicUrl, root, '127.0.0.3', 1), [429], 'another client shares the proxy\'s allowance');
    t.notMatch(up.logs(), /"remoteAddress":"127\.0\.0\.[23]"/, 'the log only sees the proxy');
  });
});
