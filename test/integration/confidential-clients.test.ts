import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

// Operators' confidential clients: a generated secret shown once, kept only as a SHA-256 digest,
// accepted in the Basic header and in the body; introspection only for clients marked for it.

const PASSWORD = 'correct horse battery';
const REDIRECT = 'https://app.example.com/cb';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function introspect(base: string, token: string, auth: Record<string, string>, body: Record<string, string> = {}) {
  const res = await fetch(`${base}/oidc/oauth2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
    body: new URLSearchParams({ token, ...body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

for (const kind of dbKinds()) {
  t.test(`a confidential client authenticates with its secret, basic and post [${kind}]`, async (t) => {
    const { ctx, url, logs } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    const { client, secret } = await ctx.clients.register({ clientId: 'webapp', firstParty: true, redirectUris: [REDIRECT] });
    t.equal(client.type, 'confidential');
    t.type(secret, 'string', 'a generated secret is returned once');
    t.ok(Buffer.from(secret!, 'base64url').length >= 32, 'at least 256 random bits');

    const code = async () => (await signIn(url, { clientId: 'webapp', redirectUri: REDIRECT, login: 'alice', password: PASSWORD, pkce: false })).code;
    const viaBasic = await tokenRequest(url, { grant_type: 'authorization_code', code: await code(), redirect_uri: REDIRECT }, { authorization: basic('webapp', secret!) });
    t.equal(viaBasic.status, 200, `client_secret_basic: ${JSON.stringify(viaBasic.body)}`);
    const viaPost = await tokenRequest(url, { grant_type: 'authorization_code', code: await code(), redirect_uri: REDIRECT, client_id: 'webapp', client_secret: secret! });
    t.equal(viaPost.status, 200, `client_secret_post: ${JSON.stringify(viaPost.body)}`);
    const refreshed = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(viaPost.body.refresh_token) }, { authorization: basic('webapp', secret!) });
    t.equal(refreshed.status, 200, 'refresh with the secret');

    for (const [what, params, headers] of [
      ['a wrong secret in the header', {}, { authorization: basic('webapp', `${secret}x`) }],
      ['a wrong secret in the body', { client_id: 'webapp', client_secret: secret!.slice(1) }, {}],
      ['the digest instead of the secret', { client_id: 'webapp', client_secret: `sha256:${createHash('sha256').update(secret!).digest('hex')}` }, {}],
      ['no secret', { client_id: 'webapp' }, {}],
    ] as const) {
      const res = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token), ...params }, headers);
      t.equal(res.status, 401, `${what}: 401`);
      t.equal(res.body.error, 'invalid_client', `${what}: invalid_client`);
    }

    const rows = await sql<{ text: string }>`select metadata::text as text from clients where client_id = 'webapp'`.execute(ctx.db.db);
    const stored = rows.rows[0]!.text;
    t.notOk(stored.includes(secret!), 'the database holds no plaintext secret');
    t.ok(stored.includes(createHash('sha256').update(secret!).digest('hex')), 'only its SHA-256 digest');
    t.notOk(logs().includes(secret!), 'nor does the log');
  });

  t.test(`an operator-chosen secret, and rotation [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const chosen = 'an-operator-chosen-secret-of-some-length';
    const registered = await ctx.clients.register({ clientId: 'files-api', secret: chosen, introspect: true });
    t.equal(registered.secret, undefined, 'a chosen secret is not echoed');
    t.same(registered.client.grants, [], 'a resource server has no grants');

    const probe = (secret: string) => introspect(url, 'not-a-token', { authorization: basic('files-api', secret) });
    t.equal((await probe(chosen)).status, 200, 'the chosen secret works');
    const rotated = await ctx.clients.rotateSecret('files-api');
    t.not(rotated.secret, chosen);
    t.equal((await probe(chosen)).status, 401, 'the old secret stops working at once');
    t.equal((await probe(rotated.secret)).status, 200, 'the new one works');
    await t.rejects(ctx.clients.rotateSecret('cells-sync'), { status: 409, code: 'conflict' }, 'a default client has no secret to rotate');
    await ctx.clients.register({ clientId: 'pub', public: true, redirectUris: [REDIRECT] });
    await t.rejects(ctx.clients.rotateSecret('pub'), { status: 409, message: /public/ });
    await t.rejects(ctx.clients.rotateSecret('nope'), { status: 404, code: 'not_found' });
  });

  t.test(`introspection: allowed for an introspect client, refused for others [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const { user } = await ctx.users.create({ login: 'alice', password: PASSWORD });
    const api = await ctx.clients.register({ clientId: 'files-api', introspect: true });
    const other = await ctx.clients.register({ clientId: 'webapp', firstParty: true, redirectUris: [REDIRECT] });

    const redirectUri = 'http://localhost:3636/servers/callback';
    const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'alice', password: PASSWORD });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
    const accessToken = String(tokens.body.access_token);

    const allowed = await introspect(url, accessToken, { authorization: basic('files-api', api.secret!) });
    t.equal(allowed.status, 200);
    t.match(allowed.body, { active: true, sub: user.id, client_id: 'cells-sync', token_type: 'Bearer' }, 'the resource server learns about the token');
    const viaPost = await introspect(url, accessToken, {}, { client_id: 'files-api', client_secret: api.secret! });
    t.equal(viaPost.body.active, true, 'with the secret in the body too');

    const refused = await introspect(url, accessToken, { authorization: basic('webapp', other.secret!) });
    t.same(refused.body, { active: false }, 'an authenticated client not marked introspect learns nothing');
    const publicClient = await introspect(url, accessToken, {}, { client_id: 'cells-sync' });
    t.same(publicClient.body, { active: false }, 'a public client learns nothing, even about its own token');
    const anonymous = await introspect(url, accessToken, {});
    t.equal(anonymous.status, 400, 'no client at all is refused');
    const wrong = await introspect(url, accessToken, { authorization: basic('files-api', 'wrong-secret-wrong-secret') });
    t.equal(wrong.status, 401);
    t.equal(wrong.body.error, 'invalid_client');
  });

  t.test(`the clients service: list, get, conflicts, validation, delete [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    await ctx.clients.register({ clientId: 'webapp', name: 'Web App', firstParty: true, redirectUris: [REDIRECT, 'http://localhost:[8000-8001]/cb'] });

    const list = await ctx.clients.list();
    t.same(list.map((c) => [c.clientId, c.source, c.type]), [
      ['cells-sync', 'default', 'public'],
      ['cells-mobile', 'default', 'public'],
      ['cells-client', 'default', 'public'],
      ['webapp', 'database', 'confidential'],
    ]);
    const webapp = await ctx.clients.get('webapp');
    t.same(webapp.redirectUris, [REDIRECT, 'http://localhost:[8000-8001]/cb'], 'patterns as registered');
    t.equal(webapp.name, 'Web App');
    t.type(webapp.createdAt, 'string');
    t.notOk(JSON.stringify(list).includes('sha256:'), 'no view shows the digest');

    await t.rejects(ctx.clients.register({ clientId: 'webapp', public: true, redirectUris: [REDIRECT] }), { status: 409, code: 'conflict' }, 'the id is taken');
    await t.rejects(ctx.clients.register({ clientId: 'cells-sync', public: true, redirectUris: [REDIRECT] }), { status: 409, message: /default client/ }, 'a default id is taken');
    await t.rejects(ctx.clients.get('nope'), { status: 404, code: 'not_found' });
    await t.rejects(ctx.clients.remove('nope'), { status: 404, code: 'not_found' });
    await t.rejects(ctx.clients.remove('cells-client'), { status: 409, message: /configuration/ });

    const invalid: Array<[Record<string, unknown>, string]> = [
      [{ clientId: 'a b', public: true }, 'clientId'],
      [{ clientId: 'x', public: true, redirectUris: ['http://localhost:1/cb#f'] }, 'redirectUris'],
      [{ clientId: 'x', public: true, redirectUris: ['http://u@localhost:1/cb'] }, 'redirectUris'],
      [{ clientId: 'x', public: true, redirectUris: ['http://localhost:[5-1]/cb'] }, 'redirectUris'],
      [{ clientId: 'x', public: true, redirectUris: [42] }, 'redirectUris.0'],
      [{ clientId: 'x', public: true }, 'grants'],
      [{ clientId: 'x', public: true, introspect: true }, 'introspect'],
      [{ clientId: 'x', public: true, secret: 'a-secret-that-is-long-enough' }, 'secret'],
      [{ clientId: 'x', secret: 'short', introspect: true }, 'secret'],
      [{ clientId: 'x', public: true, grants: ['client_credentials'], redirectUris: [REDIRECT] }, 'grants.0'],
      [{ clientId: 'x', public: true, grants: ['refresh_token'], redirectUris: [REDIRECT] }, 'grants'],
      [{ clientId: 'x', public: true, scope: 'openid admin', redirectUris: [REDIRECT] }, 'scope'],
      [{ clientId: 'x', public: true, redirectUris: [REDIRECT], colour: 'red' }, 'colour'],
    ];
    for (const [input, field] of invalid) {
      await t.rejects(ctx.clients.register(input as never), { status: 400, code: 'invalid_request', field }, `${JSON.stringify(input)} → ${field}`);
    }
    t.equal((await ctx.clients.list()).length, 4, 'nothing was stored by the refused registrations');

    // Deleting a client revokes what it was issued.
    const { code } = await signIn(url, { clientId: 'webapp', redirectUri: 'http://localhost:8001/cb', login: 'alice', password: PASSWORD, pkce: false });
    const secretless = await ctx.clients.register({ clientId: 'files-api', introspect: true });
    const webSecret = (await ctx.clients.rotateSecret('webapp')).secret;
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:8001/cb' }, { authorization: basic('webapp', webSecret) });
    t.equal(tokens.status, 200, 'a port of the registered range works');
    t.equal((await introspect(url, String(tokens.body.access_token), { authorization: basic('files-api', secretless.secret!) })).body.active, true);
    await ctx.clients.remove('webapp');
    await t.rejects(ctx.clients.get('webapp'), { status: 404, code: 'not_found' });
    t.equal((await introspect(url, String(tokens.body.access_token), { authorization: basic('files-api', secretless.secret!) })).body.active, false, 'its tokens are gone');
    await ctx.clients.register({ clientId: 'webapp', public: true, redirectUris: [REDIRECT] });
    t.equal((await introspect(url, String(tokens.body.access_token), { authorization: basic('files-api', secretless.secret!) })).body.active, false, 'and a new client with the same id inherits nothing');
  });
}
