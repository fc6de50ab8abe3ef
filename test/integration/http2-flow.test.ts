import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { dbKinds } from '../helpers/database.ts';
import { mintFor } from '../helpers/pat.ts';
import { countProviderRequests } from '../helpers/provider-requests.ts';
import { H2Browser, signInOverH2 } from '../helpers/h2-browser.ts';
import { startTestServer } from '../helpers/server.ts';
import { h2, h2Session, https1, tempDir } from '../helpers/tls.ts';

const run = promisify(execFile);

for (const kind of dbKinds()) {
  t.test(`the whole sign-in flow over HTTP/2 with TLS (self-signed) [${kind}]`, async (t) => {
    const dataDir = await tempDir(t);
    const { ctx, config, port } = await startTestServer(t, { kind, config: { publicUrl: 'https://127.0.0.1:PORT', dataDir, tls: { mode: 'self' } } });
    const base = config.publicUrl;
    const ca = await readFile(join(dataDir, 'certs', 'rootCA.pem'), 'utf8');
    const { user } = await ctx.users.create({ login: 'alice', email: 'alice@example.com', password: 'correct horse battery' });
    // Counted from the start: the provider's middleware chain is composed on its first request.
    const handedOver = countProviderRequests(ctx, '/oauth2/introspect');

    const session = await h2Session(t, base, { ca });
    t.equal(session.alpnProtocol, 'h2', 'ALPN chose HTTP/2');
    const browser = new H2Browser(session);
    const redirectUri = 'http://localhost:3636/servers/callback';
    const { callback, verifier, state, locations } = await signInOverH2(browser, base, { clientId: 'cells-sync', redirectUri, login: 'alice', password: 'correct horse battery' });
    t.equal(callback.origin + callback.pathname, redirectUri, 'back to the client with a code');
    t.equal(callback.searchParams.get('state'), state);
    for (const l of locations.filter((l) => /^https?:/.test(l) && !l.startsWith(redirectUri))) t.ok(l.startsWith(`${base}/`), `redirect stays on the public URL: ${l}`);

    t.ok(browser.responses.length >= 4, 'authorize, login page, login post, resume all went over the one HTTP/2 session');
    t.ok(browser.responses.every((r) => r.headers['strict-transport-security'] === 'max-age=31536000; includeSubDomains'), 'every response carries HSTS');
    t.ok(browser.setCookieLines.length > 0, 'the provider set its cookies');
    for (const line of browser.setCookieLines) {
      t.match(line, /;\s*secure/i, `Secure: ${line.split('=')[0]}`);
      t.match(line, /;\s*httponly/i, `HttpOnly: ${line.split('=')[0]}`);
    }

    const token = await h2(session, '/oidc/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier }).toString(),
    });
    // Node's HTTP/2 client sends no content-length: the stream's end frames the body (RFC 9113 §8.1.1).
    t.equal(token.status, 200, 'the code is exchanged over HTTP/2, body without content-length');
    if (token.status !== 200) t.comment(token.body);
    const tokens = JSON.parse(token.body) as Record<string, string>;
    t.equal(decodeJwt(tokens.id_token!).iss, `${base}/oidc`);
    t.equal(decodeJwt(tokens.id_token!).sub, user.id);
    const info = await h2(session, '/oidc/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    t.equal(info.status, 200);
    t.equal(JSON.parse(info.body).name, 'alice');

    // A resource server introspecting a PAT over HTTP/2: with content-length the body is read before
    // Fastify and answered there; without it (the stream's end frames the body) the provider answers.
    await ctx.clients.register({ clientId: 'files-api', secret: 'a-long-resource-server-secret', introspect: true });
    const { token: pat } = await mintFor(ctx, user.id, { expire: '1h' });
    const form = `token=${pat}`;
    const basic = `Basic ${Buffer.from('files-api:a-long-resource-server-secret').toString('base64')}`;
    for (const [i, length] of ([{ 'content-length': String(form.length) }, {}] as Record<string, string>[]).entries()) {
      const res = await h2(session, '/oidc/oauth2/introspect', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic, ...length }, body: form });
      t.equal(res.status, 200, `PAT introspection over HTTP/2 ${length['content-length'] ? 'with' : 'without'} content-length`);
      t.match(JSON.parse(res.body), { active: true, username: 'alice', token_kind: 'personal_access_token' });
      t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
      t.equal(handedOver(), i, i ? 'the provider answered it' : 'answered before Fastify');
    }

    // HTTP/1.1 on the same port still works (ALPN http/1.1).
    const h1 = await https1(`${base}/oidc/.well-known/openid-configuration`, { ca });
    t.equal(h1.httpVersion, '1.1');
    t.equal(JSON.parse(h1.body).issuer, `${base}/oidc`);

    const certFile = join(dataDir, 'certs', 'rootCA.pem');
    const discovery = await run('curl', ['-sS', '--http2', '--cacert', certFile, `https://127.0.0.1:${port}/oidc/.well-known/openid-configuration`]);
    t.equal(JSON.parse(discovery.stdout).token_endpoint, `${base}/oidc/oauth2/token`, 'curl --http2 reads the discovery document');
    const head = await run('curl', ['-sSI', '--http2', '--cacert', certFile, `https://127.0.0.1:${port}/healthz`]);
    t.match(head.stdout, /^HTTP\/2 200/, 'curl -sI --http2 shows HTTP/2');
    t.match(head.stdout, /strict-transport-security: max-age=31536000/);
  });
}

t.test('without TLS: HTTP/1.1 only, no HSTS, cookies without Secure', async (t) => {
  const { ctx, config } = await startTestServer(t, { config: {} });
  await ctx.users.create({ login: 'bob', password: 'correct horse battery' });
  const res = await fetch(`${config.publicUrl}/oidc/oauth2/auth?client_id=cells-sync&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('http://localhost:3636')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`, { redirect: 'manual' });
  t.equal(res.status, 303);
  t.equal(res.headers.get('strict-transport-security'), null);
  const cookies = res.headers.getSetCookie();
  t.ok(cookies.length > 0);
  t.ok(cookies.every((c) => !/;\s*secure/i.test(c)), 'no Secure flag over plain HTTP');
  await t.rejects(run('curl', ['-sS', '--http2-prior-knowledge', '--max-time', '5', `${config.publicUrl}/healthz`]), 'no HTTP/2 over cleartext');
});
