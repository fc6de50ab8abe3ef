import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.ts';
import { dbKinds } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { bearer, mintFor } from '../helpers/pat.ts';

const pkgVersion = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;

for (const kind of dbKinds()) {
  t.test(`GET /a/config/discovery: endpoints for everyone, Version and BuildRevision for a signed-in caller [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind, config: { buildRevision: '3f2a9c1' } });
    const endpoints = { oidc: `${url}/oidc`, rest: `${url}/a`, openapi: `${url}/a/openapi.yaml`, frontend: url };

    const anonymous = await fetch(`${url}/a/config/discovery`, { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } });
    t.equal(anonymous.status, 200);
    t.same(await anonymous.json(), { Endpoints: endpoints }, 'anonymous: the endpoints only, on the configured public URL whatever Host says');
    t.match(anonymous.headers.get('vary') ?? '', /authorization/i);

    await ctx.users.create({ login: 'alice', password: 'correct horse battery' });
    const redirectUri = 'http://localhost:3636';
    const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'alice', password: 'correct horse battery' });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
    const access = String(tokens.body.access_token);

    const signedIn = await fetch(`${url}/a/config/discovery`, { headers: { authorization: `Bearer ${access}` } });
    t.equal(signedIn.status, 200);
    t.same(await signedIn.json(), { Endpoints: endpoints, Version: pkgVersion, BuildRevision: '3f2a9c1' }, 'a valid access token also sees the version and revision');
    t.match(signedIn.headers.get('cache-control') ?? '', /no-store/);

    const { token: pat } = await mintFor(ctx, (await ctx.users.findByLogin('alice'))!.id, { expire: '1h' });
    const withPat = await fetch(`${url}/a/config/discovery`, { headers: bearer(pat) });
    t.same(await withPat.json(), { Endpoints: endpoints, Version: pkgVersion, BuildRevision: '3f2a9c1' }, 'a personal access token counts as signed in too');

    const basic = await fetch(`${url}/a/config/discovery`, { headers: { authorization: `Basic ${Buffer.from('alice:x').toString('base64')}` } });
    t.same(await basic.json(), { Endpoints: endpoints }, 'another scheme is an anonymous caller');

    for (const [label, header] of [
      ['an unknown token', 'Bearer not-a-token'],
      ['the refresh token', `Bearer ${tokens.body.refresh_token}`],
      ['a malformed header', 'Bearer a b'],
      ['an empty token', 'Bearer '],
      ['a huge token', `Bearer ${'a'.repeat(5000)}`],
    ] as const) {
      const res = await fetch(`${url}/a/config/discovery`, { headers: { authorization: header } });
      t.equal(res.status, 401, `${label}: 401`);
      // RFC 6750 §3.1: invalid_request for a malformed header, invalid_token for a bad token.
      t.match(res.headers.get('www-authenticate') ?? '', /error="invalid_(token|request)"/);
      t.match(await res.json(), { error: /^invalid_(token|request)$/, error_description: String });
    }

    const revoke = await fetch(`${url}/oidc/oauth2/revoke`, { method: 'POST', body: new URLSearchParams({ token: access, client_id: 'cells-sync' }) });
    t.equal(revoke.status, 200);
    const revoked = await fetch(`${url}/a/config/discovery`, { headers: { authorization: `Bearer ${access}` } });
    t.equal(revoked.status, 401, 'a revoked access token no longer counts');
  });
}

t.test('without a known revision, BuildRevision is left out; the environment sets it', async (t) => {
  const { ctx, url } = await buildTestApp(t, { kind: 'pglite' });
  await ctx.users.create({ login: 'bob', password: 'correct horse battery' });
  const redirectUri = 'http://localhost:3636';
  const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'bob', password: 'correct horse battery' });
  const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
  const res = await fetch(`${url}/a/config/discovery`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
  const body = (await res.json()) as Record<string, unknown>;
  t.equal(body.Version, pkgVersion);
  t.notOk('BuildRevision' in body);

  t.equal(loadConfig({ env: { CELLS_AUTH_BUILD_REVISION: '0123abcd' } }).buildRevision, '0123abcd');
  t.throws(() => loadConfig({ env: { CELLS_AUTH_BUILD_REVISION: 'a b' } }), { message: /^config: buildRevision: / });
});
