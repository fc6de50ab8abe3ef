import t from 'tap';
import fc from 'fast-check';
import { buildTestApp } from '../helpers/harness.ts';

// Property-based: whatever arrives, no 500, the right error shape, and an answer (no hang).
// PGlite only: this exercises parsing and validation, not the store.

const text = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom('', ' ', '%', '%00', '\u0000', '../..', '<script>', "' or 1=1 --", 'a'.repeat(5000), '{"a":', '[]', 'null', '\ud800'),
);
const params = fc.dictionary(
  fc.oneof(fc.constantFrom('client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code', 'code_verifier', 'code_challenge', 'code_challenge_method', 'grant_type', 'refresh_token', 'token', 'token_type_hint', 'prompt', 'max_age', 'nonce', 'login', 'password', 'csrf', 'error', 'error_description'), fc.string({ maxLength: 12 })),
  text,
  { maxKeys: 8 },
);
const headerValue = fc.oneof(text.filter((s) => /^[\x20-\x7e]*$/.test(s)), fc.constantFrom('Bearer ', 'Bearer x', 'Basic ', 'Basic !!!', 'Basic Og==', 'Basic Y2VsbHMtc3luYzo=', 'Bearer cap_x'));
const contentType = fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=bogus', '');

const GET_PATHS = ['/oidc/oauth2/auth', '/oidc/userinfo', '/oidc/oauth2/sessions/logout', '/oauth2/oob', '/oauth/oob', '/interaction/abc', '/oidc/.well-known/openid-configuration', '/oidc/.well-known/jwks.json', '/readyz', '/a/config/discovery', '/a/auth/verify', '/a/auth/tokens', '/a/admin/users/admin/tokens', '/a/admin/users', '/metrics'];
const POST_PATHS = ['/oidc/oauth2/auth', '/oidc/oauth2/token', '/oidc/oauth2/revoke', '/oidc/oauth2/introspect', '/oidc/userinfo', '/oidc/oauth2/sessions/logout', '/interaction/abc/login', '/interaction/abc/consent', '/interaction/abc/abort', '/a/auth/tokens', '/a/admin/users/admin/tokens', '/a/admin/users'];

function encode(p: Record<string, string>, type: string): string {
  if (type.startsWith('application/json')) return JSON.stringify(p);
  return new URLSearchParams(p).toString();
}

t.test('random requests never produce a 500 or a malformed error', async (t) => {
  const { app } = await buildTestApp(t, { kind: 'pglite', listen: false });
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      fc.nat(),
      params,
      contentType,
      fc.option(headerValue, { nil: undefined }),
      fc.option(fc.string({ maxLength: 30 }).filter((s) => /^[\x21-\x7e]*$/.test(s)), { nil: undefined }),
      async (post, pick, p, type, authorization, pathSuffix) => {
        runs++;
        const paths = post ? POST_PATHS : GET_PATHS;
        const path = paths[pick % paths.length]! + (pathSuffix && pick % 3 === 0 ? encodeURIComponent(pathSuffix) : '');
        const headers: Record<string, string> = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (post && type) headers['content-type'] = type;
        const res = await app.inject({
          method: post ? 'POST' : 'GET',
          url: post ? path : `${path}?${new URLSearchParams(p)}`,
          headers,
          payload: post ? encode(p, type) : undefined,
        });
        if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${post ? 'POST' : 'GET'} ${path}: ${res.body.slice(0, 300)}`);
        const ctype = String(res.headers['content-type'] ?? '');
        if (res.statusCode >= 400 && ctype.includes('application/json')) {
          const body = res.json() as { error?: unknown };
          if (typeof body.error !== 'string') throw new Error(`error without an "error" code: ${res.body.slice(0, 200)}`);
        }
      },
    ),
    { numRuns: 400 },
  );
  t.equal(runs >= 400, true, 'ran the property');
});

t.test('oversized bodies are refused', async (t) => {
  const { url } = await buildTestApp(t, { kind: 'pglite' });
  const big = `client_id=cells-sync&grant_type=refresh_token&refresh_token=${'a'.repeat(200 * 1024)}`;
  for (const path of ['/oidc/oauth2/token', '/interaction/abc/login']) {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big });
    t.ok(res.status === 413 || res.status === 400, `${path}: ${res.status}`);
    t.ok(res.status < 500);
  }
});

t.test('a NUL character in a parameter the provider keeps is a client error', async (t) => {
  const { app } = await buildTestApp(t, { kind: 'pglite', listen: false });
  // Found by the property above: Postgres jsonb cannot hold NUL, and `state` lands in the session.
  for (const url of ['/oidc/oauth2/sessions/logout?state=%00', '/oidc/oauth2/sessions/logout?ui_locales=a%00b']) {
    const res = await app.inject({ method: 'GET', url });
    t.ok(res.statusCode < 500, `${url}: ${res.statusCode}`);
  }
});
