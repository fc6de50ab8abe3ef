import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';

// SPEC §1: discovery is built from the configured public URL, never from Host / X-Forwarded-*; the JWK
// set publishes public keys only.

const PUBLIC_URL = 'https://cells.example.com';
const HOSTILE = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', 'x-forwarded-port': '666', forwarded: 'host=evil.example;proto=http' };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A GET with exactly these headers (fetch would not send our Host). */
function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

const underIssuer = (u: string) => u === `${PUBLIC_URL}/oidc` || u.startsWith(`${PUBLIC_URL}/oidc/`);

function urlsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => urlsIn(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => urlsIn(v, out));
  return out;
}

for (const kind of dbKinds()) {
  // Behind a trusted proxy too: the forwarded headers are believed for the client address, not for URLs.
  for (const trustedProxies of [[], ['127.0.0.1']]) {
    t.test(`discovery uses the public URL whatever the request says (trusted proxies: ${trustedProxies.length}) [${kind}]`, async (t) => {
      const { app } = await buildTestApp(t, { kind, config: { publicUrl: PUBLIC_URL, trustedProxies } });
      const { port } = app.server.address() as AddressInfo;

      const { status, body } = await get(port, '/oidc/.well-known/openid-configuration', HOSTILE);
      t.equal(status, 200);
      t.equal(body.issuer, `${PUBLIC_URL}/oidc`);
      const urls = urlsIn(body);
      t.ok(urls.length >= 8, `the document has its endpoint URLs (${urls.length})`);
      for (const u of urls) t.ok(underIssuer(u), `${u} starts with the public URL`);
      t.equal(body.authorization_endpoint, `${PUBLIC_URL}/oidc/oauth2/auth`);
      t.equal(body.token_endpoint, `${PUBLIC_URL}/oidc/oauth2/token`);
      t.equal(body.jwks_uri, `${PUBLIC_URL}/oidc/.well-known/jwks.json`);
      t.equal(body.introspection_endpoint, `${PUBLIC_URL}/oidc/oauth2/introspect`);
      t.same(body.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post'], 'no method that would need a plaintext secret');
      t.same(body.code_challenge_methods_supported, ['S256']);
      t.same(body.response_types_supported, ['code']);

      const oauth = await get(port, '/oidc/.well-known/oauth-authorization-server', HOSTILE);
      for (const u of urlsIn(oauth.body)) t.ok(underIssuer(u), `RFC 8414 metadata: ${u}`);

      const jwks = await get(port, '/oidc/.well-known/jwks.json', HOSTILE);
      const keys = jwks.body.keys as Array<Record<string, unknown>>;
      t.ok(keys.length >= 1, 'at least one key');
      for (const key of keys) {
        t.type(key.kid, 'string', 'a kid');
        t.type(key.alg, 'string', 'an alg');
        t.equal(key.kty, 'RSA');
        for (const member of PRIVATE_MEMBERS) t.notOk(member in key, `no private member "${member}"`);
      }
    });
  }
}
