import t from 'tap';
import { auditRows, call, rootAdmin } from '../helpers/admin.ts';
import { dbKinds } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { bearer, makeUser } from '../helpers/pat.ts';

const PASSWORD = 'correct horse battery';
const REDIRECT = 'https://app.example.com/cb';
const basicAuth = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });

for (const kind of dbKinds()) {
  t.test(`clients: register, get, list, rotate a secret, delete; audited without secrets [${kind}]`, async (t) => {
    const { ctx, url, logs } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    await makeUser(ctx, 'alice');

    const confidential = await call(url, 'POST', '/a/admin/clients', root.auth, { clientId: 'webapp', name: 'Web app', firstParty: true, redirectUris: [REDIRECT] });
    t.equal(confidential.status, 201, confidential.text);
    t.equal(confidential.headers.get('cache-control'), 'no-store');
    t.match(confidential.body, { clientId: 'webapp', name: 'Web app', source: 'database', type: 'confidential', firstParty: true, grants: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT] });
    const secret = confidential.body.secret as string;
    t.type(secret, 'string', 'a generated secret, once');

    // The registered client works: a code flow authenticated with its secret.
    const signedIn = await signIn(url, { clientId: 'webapp', redirectUri: REDIRECT, login: 'alice', password: PASSWORD, pkce: false });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code: signedIn.code, redirect_uri: REDIRECT }, basicAuth('webapp', secret));
    t.equal(tokens.status, 200, JSON.stringify(tokens.body));

    const given = await call(url, 'POST', '/a/admin/clients', root.auth, { clientId: 'resource-server', introspect: true, secret: 'a sixteen+ char secret' });
    t.equal(given.status, 201, given.text);
    t.equal(given.body.secret, undefined, 'a given secret is not echoed');
    t.equal(given.body.introspect, true);

    const native = await call(url, 'POST', '/a/admin/clients', root.auth, { clientId: 'native', public: true, redirectUris: ['http://127.0.0.1:[8000-8002]/cb'] });
    t.equal(native.status, 201, native.text);
    t.match(native.body, { type: 'public', pkceRequired: true, firstParty: false, redirectUris: ['http://127.0.0.1:[8000-8002]/cb'] });
    t.equal(native.body.secret, undefined, 'a public client has no secret');

    const got = await call(url, 'GET', '/a/admin/clients/webapp', root.auth);
    t.equal(got.status, 200);
    t.equal(got.body.secret, undefined, 'never the secret');
    t.notOk(JSON.stringify(got.body).includes('client_secret'));
    t.match((await call(url, 'GET', '/a/admin/clients/cells-sync', root.auth)).body, { source: 'default', type: 'public', firstParty: true });
    const list = await call(url, 'GET', '/a/admin/clients', root.auth);
    t.same(list.body.clients.map((c: { clientId: string }) => c.clientId), ['cells-sync', 'cells-mobile', 'cells-client', 'native', 'resource-server', 'webapp'], 'the defaults, then the registered ones');
    t.notOk(list.text.includes(secret) || list.text.includes('a sixteen+ char secret'), 'no secret in the list');

    const rotated = await call(url, 'POST', '/a/admin/clients/webapp/secret', root.auth);
    t.equal(rotated.status, 200, rotated.text);
    t.type(rotated.body.secret, 'string');
    t.not(rotated.body.secret, secret);
    const again = await signIn(url, { clientId: 'webapp', redirectUri: REDIRECT, login: 'alice', password: PASSWORD, pkce: false, jar: signedIn.jar });
    const withOld = await tokenRequest(url, { grant_type: 'authorization_code', code: again.code, redirect_uri: REDIRECT }, basicAuth('webapp', secret));
    t.equal(withOld.body.error, 'invalid_client', 'the old secret stops working at once');
    const third = await signIn(url, { clientId: 'webapp', redirectUri: REDIRECT, login: 'alice', password: PASSWORD, pkce: false, jar: signedIn.jar });
    t.equal((await tokenRequest(url, { grant_type: 'authorization_code', code: third.code, redirect_uri: REDIRECT }, basicAuth('webapp', rotated.body.secret))).status, 200, 'the new one works');
    t.equal((await call(url, 'POST', '/a/admin/clients/native/secret', root.auth)).status, 409, 'a public client has no secret to rotate');
    t.equal((await call(url, 'POST', '/a/admin/clients/cells-sync/secret', root.auth)).status, 409, 'nor a default client');
    t.equal((await call(url, 'POST', '/a/admin/clients/nothing/secret', root.auth)).status, 404);

    // Deleting the client: its tokens stop working everywhere, ours included.
    const accessToken = String(tokens.body.access_token);
    t.equal((await fetch(`${url}/a/auth/verify`, { headers: bearer(accessToken) })).status, 200);
    const deleted = await call(url, 'DELETE', '/a/admin/clients/webapp', root.auth);
    t.equal(deleted.status, 204);
    t.equal((await call(url, 'GET', '/a/admin/clients/webapp', root.auth)).status, 404);
    t.equal((await fetch(`${url}/oidc/userinfo`, { headers: bearer(accessToken) })).status, 401, 'userinfo refuses its access token');
    t.equal((await fetch(`${url}/a/auth/verify`, { headers: bearer(accessToken) })).status, 401, 'and so does verify');
    t.equal((await call(url, 'DELETE', '/a/admin/clients/webapp', root.auth)).status, 404, 'deleting twice: 404');
    const builtIn = await call(url, 'DELETE', '/a/admin/clients/cells-sync', root.auth);
    t.equal(builtIn.status, 409, 'a default client cannot be deleted');
    t.match(builtIn.body.error_description, /default client/);

    const rows = await auditRows(ctx);
    const events = rows.filter((r) => String(r.action).startsWith('client.'));
    t.same(
      events.map((r) => `${r.action}:${r.target_id}`),
      ['client.created:webapp', 'client.created:resource-server', 'client.created:native', 'client.secret_rotated:webapp', 'client.deleted:webapp'],
      'one event per change; none for refusals',
    );
    t.match(events[0], { actor_id: root.id, actor_login: 'root', address: '127.0.0.1', target_type: 'client', details: { type: 'confidential', firstParty: true, redirectUris: [REDIRECT], generated: true } });
    t.match(events[1], { details: { introspect: true, generated: false } });
    const stored = JSON.stringify(rows);
    for (const s of [secret, rotated.body.secret, 'a sixteen+ char secret']) t.notOk(stored.includes(s), 'no client secret in the trail');
    t.notOk(logs().includes(secret) || logs().includes(rotated.body.secret), 'nor in a log line');
  });

  t.test(`clients: bad registrations are 400s naming the field, duplicates 409 [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    await call(url, 'POST', '/a/admin/clients', root.auth, { clientId: 'taken', public: true, redirectUris: [REDIRECT] });
    const cases: Array<[unknown, number, RegExp]> = [
      [{}, 400, /^body\.clientId: /],
      [{ clientId: 'has space', redirectUris: [REDIRECT] }, 400, /^body\.clientId: letters, digits/],
      [{ clientId: 'x', redirectUris: ['https://app.example.com/cb#frag'] }, 400, /^redirectUris: .*fragment/],
      [{ clientId: 'x', redirectUris: ['https://user:pw@app.example.com/cb'] }, 400, /^redirectUris: .*user information/],
      [{ clientId: 'x', redirectUris: ['javascript:alert(1)'] }, 400, /^redirectUris: /],
      [{ clientId: 'x', redirectUris: ['/relative'] }, 400, /^redirectUris: .*absolute/],
      [{ clientId: 'x', redirectUris: ['http://localhost:[3000-2000]/cb'] }, 400, /^redirectUris: .*ascending/],
      [{ clientId: 'x' }, 400, /^grants: a client needs at least one grant, or introspect/],
      [{ clientId: 'x', grants: ['authorization_code'] }, 400, /^redirectUris: at least one is needed/],
      [{ clientId: 'x', public: true, secret: 'a sixteen+ char secret', redirectUris: [REDIRECT] }, 400, /^secret: a public client has no secret/],
      [{ clientId: 'x', public: true, introspect: true }, 400, /^introspect: /],
      [{ clientId: 'x', secret: 'short', redirectUris: [REDIRECT] }, 400, /^body\.secret: must be at least 16/],
      [{ clientId: 'x', grants: ['implicit'], redirectUris: [REDIRECT] }, 400, /^body\.grants\.0: /],
      [{ clientId: 'x', scope: 'openid admin', redirectUris: [REDIRECT] }, 400, /^scope: unknown scope "admin"/],
      [{ clientId: 'x', redirectUris: [REDIRECT], client_secret: 'x' }, 400, /^body: Unrecognized key: "client_secret"/],
      [{ clientId: 'x', name: 'a\u0000b', redirectUris: [REDIRECT] }, 400, /^body\.name: /],
      [{ clientId: 'x', redirectUris: ['https://app.example.com/\u0000'] }, 400, /^body\.redirectUris\.0: must not contain a NUL/],
      [{ clientId: 'taken', public: true, redirectUris: [REDIRECT] }, 409, /"taken" already exists/],
      [{ clientId: 'cells-sync', public: true, redirectUris: [REDIRECT] }, 409, /default client/],
    ];
    for (const [body, status, pattern] of cases) {
      const res = await call(url, 'POST', '/a/admin/clients', root.auth, body);
      t.equal(res.status, status, `${JSON.stringify(body)} → ${status}`);
      t.match(res.body?.error_description, pattern, res.body?.error_description ?? res.text);
    }
    t.same((await ctx.clients.list()).map((c) => c.clientId).filter((id) => id === 'x'), [], 'nothing was registered by a refusal');
    for (const path of ['/a/admin/clients/has%20space', '/a/admin/clients/a%00b']) {
      const res = await call(url, 'GET', path, root.auth);
      t.equal(res.status, 400, `${path} → 400`);
      t.match(res.body.error_description, /^params\.clientId: /);
    }
  });
}
