import t from 'tap';
import { auditRows, call, rootAdmin } from '../helpers/admin.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { authorizeUrl, browse, follow, signIn, tokenRequest } from '../helpers/flow.ts';
import { accessTokenFor, bearer, makeUser, mintFor } from '../helpers/pat.ts';

const REDIRECT = 'http://localhost:3636/servers/callback';

for (const kind of dbKinds()) {
  t.test(`create users: generated or given password, conflicts, bad bodies [${kind}]`, async (t) => {
    const { ctx, url, logs } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);

    const generated = await call(url, 'POST', '/a/admin/users', root.auth, { login: 'alice', email: 'alice@example.org', displayName: 'Alice Liddell', roles: ['admin'] });
    t.equal(generated.status, 201, generated.text);
    t.equal(generated.headers.get('cache-control'), 'no-store');
    t.match(generated.body, { login: 'alice', email: 'alice@example.org', displayName: 'Alice Liddell', roles: ['admin'], locked: false, failedLogins: 0, authSource: 'local' });
    t.match(generated.body.id, /^[0-9a-f-]{36}$/);
    t.match(generated.body.password, /^[A-Za-z0-9]{24}$/, 'a generated password, once');
    t.equal((await ctx.users.authenticate('alice', generated.body.password)).ok, true, 'and it signs in');

    const given = await call(url, 'POST', '/a/admin/users', root.auth, { login: 'bob', password: 'a long enough secret' });
    t.equal(given.status, 201);
    t.equal(given.body.password, undefined, 'a given password is not echoed');
    t.same(given.body.roles, []);
    t.equal(given.body.email, null);
    t.equal((await ctx.users.authenticate('bob', 'a long enough secret')).ok, true);

    const again = await call(url, 'POST', '/a/admin/users', root.auth, { login: 'bob' });
    t.equal(again.status, 409, 'an existing login');
    t.equal(again.body.error, 'conflict');
    t.match(again.body.error_description, /"bob" already exists/);

    const cases: Array<[unknown, RegExp]> = [
      [{}, /^body\.login: /],
      [{ login: '' }, /^body\.login: letters, digits/],
      [{ login: 'has space' }, /^body\.login: letters, digits/],
      [{ login: '-dash' }, /^body\.login: /],
      [{ login: 'x'.repeat(129) }, /^body\.login: /],
      [{ login: 'carol', email: 'not-an-address' }, /^body\.email: not an e-mail address/],
      [{ login: 'carol', email: 'a\u0000@b' }, /^body\.email: must not contain a NUL/],
      [{ login: 'carol', displayName: '' }, /^body\.displayName: /],
      [{ login: 'carol', displayName: 'x\u0000' }, /^body\.displayName: must not contain a NUL/],
      [{ login: 'carol', roles: ['root'] }, /^body\.roles\.0: /],
      [{ login: 'carol', roles: 'admin' }, /^body\.roles: /],
      [{ login: 'carol', password: 'short' }, /^body\.password: must be at least 8 characters/],
      [{ login: 'carol', admin: true }, /^body: Unrecognized key: "admin"/],
      [{ login: 42 }, /^body\.login: /],
      ['{"login": "carol"', /./],
      ['[]', /^body: /],
    ];
    for (const [body, pattern] of cases) {
      const res = await call(url, 'POST', '/a/admin/users', root.auth, body);
      t.equal(res.status, 400, `${JSON.stringify(body)} → 400`);
      t.equal(res.body.error, 'invalid_request');
      t.match(res.body.error_description, pattern, res.body.error_description);
    }
    t.equal(await ctx.users.findByLogin('carol'), undefined, 'nothing was created by a bad request');

    const rows = await auditRows(ctx);
    const created = rows.filter((r) => r.action === 'user.created');
    t.equal(created.length, 2, 'one event per user created, none for the refusals');
    t.match(created[0], {
      outcome: 'success',
      actor_id: root.id,
      actor_login: 'root',
      address: '127.0.0.1',
      target_type: 'user',
      target_id: generated.body.id,
      details: { login: 'alice', roles: ['admin'], generated: true, credential: { type: 'pat' } },
    });
    t.match(created[1], { target_id: given.body.id, details: { login: 'bob', generated: false } });
    const stored = JSON.stringify(rows);
    t.notOk(stored.includes(generated.body.password), 'the generated password is not in the trail');
    t.notOk(stored.includes('a long enough secret'), 'nor the given one');
    t.notOk(logs().includes(generated.body.password), 'nor in a log line');
  });

  t.test(`list users: stable paging, case-insensitive search, literal wildcards [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    const people: Array<[string, string | null, string | null]> = [
      ['alice', 'alice@wonderland.example', 'Alice Liddell'],
      ['bob', 'bob@example.org', 'Bob'],
      ['carol', 'c@ALIce-corp.example', null],
      ['dave', null, 'Dave Malice'],
      ['erin', null, '100% sure'],
      ['frank_x', null, 'Frank'],
      ['frankyx', null, 'Franky'],
    ];
    for (const [login, email, displayName] of people) await ctx.users.create({ login, email, displayName, password: 'correct horse battery' });
    const all = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank_x', 'frankyx', 'root'];

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(url, 'GET', `/a/admin/users?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, root.auth);
      t.equal(res.status, 200, res.text);
      t.ok(res.body.users.length <= 3);
      seen.push(...res.body.users.map((u: { login: string }) => u.login));
      cursor = res.body.nextCursor;
      pages++;
      // A user added while paging lands where its login sorts, and nothing is seen twice.
      if (pages === 1) await ctx.users.create({ login: 'aaron', password: 'correct horse battery' });
    } while (cursor && pages < 10);
    t.equal(pages, 3, 'three pages of at most three');
    t.same(seen, all, 'every user once, by login');

    const whole = await call(url, 'GET', '/a/admin/users', root.auth);
    t.same(whole.body.users.map((u: { login: string }) => u.login), ['aaron', ...all], 'default limit holds them all');
    t.equal(whole.body.nextCursor, null, 'no next page');
    t.equal(whole.body.users[0].password_hash, undefined, 'never the hash');
    t.notOk(whole.text.includes('$argon2'), 'not in any field');

    const search = async (q: string) =>
      (await call(url, 'GET', `/a/admin/users?search=${encodeURIComponent(q)}`, root.auth)).body.users.map((u: { login: string }) => u.login);
    t.same(await search('ALIce'), ['alice', 'carol', 'dave'], 'login, e-mail and display name, any case');
    t.same(await search('%'), ['erin'], '% is a character, not a wildcard');
    t.same(await search('n_y'), [], '_ is a character too: frankyx does not match');
    t.same(await search('k_x'), ['frank_x']);
    t.same(await search('\\'), [], 'a backslash is a character');
    t.same(await search('nobody'), []);

    const searchPaged = await call(url, 'GET', '/a/admin/users?search=a&limit=2', root.auth);
    t.same(searchPaged.body.users.map((u: { login: string }) => u.login), ['aaron', 'alice']);
    const next = await call(url, 'GET', `/a/admin/users?search=a&limit=2&cursor=${searchPaged.body.nextCursor}`, root.auth);
    t.same(next.body.users.map((u: { login: string }) => u.login), ['bob', 'carol'], 'the search holds across pages (bob@example.org)');

    for (const [query, pattern] of [
      ['limit=0', /^querystring\.limit: /],
      ['limit=201', /^querystring\.limit: /],
      ['limit=abc', /^querystring\.limit: /],
      ['cursor=%25%25%25', /^querystring\.cursor: not a cursor this API returned/],
      [`cursor=${Buffer.from('has space').toString('base64url')}`, /^querystring\.cursor: /],
      ['search=', /^querystring\.search: /],
      ['search=%00', /^querystring\.search: must not contain a NUL/],
      ['sort=login', /^querystring: Unrecognized key: "sort"/],
    ] as const) {
      const res = await call(url, 'GET', `/a/admin/users?${query}`, root.auth);
      t.equal(res.status, 400, `${query} → 400`);
      t.match(res.body.error_description, pattern, res.body.error_description);
    }
  });

  t.test(`get, update, lock, unlock, set password; 404 and 409 [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    const alice = await makeUser(ctx, 'alice');
    const alicePat = (await mintFor(ctx, alice.id, { expire: '1h' })).token;
    const verify = async () => (await fetch(`${url}/a/auth/verify`, { headers: bearer(alicePat) })).status;

    const got = await call(url, 'GET', '/a/admin/users/alice', root.auth);
    t.equal(got.status, 200);
    t.match(got.body, { id: alice.id, login: 'alice', email: null, displayName: null, roles: [], locked: false });
    t.equal((await call(url, 'GET', '/a/admin/users/nobody', root.auth)).status, 404);
    const badLogin = await call(url, 'GET', '/a/admin/users/has%20space', root.auth);
    t.equal(badLogin.status, 400, 'a string that cannot be a login');
    t.match(badLogin.body.error_description, /^params\.login: /);
    t.equal((await call(url, 'GET', '/a/admin/users/a%00b', root.auth)).status, 400, 'a NUL never reaches a query');

    const updated = await call(url, 'PATCH', '/a/admin/users/alice', root.auth, { email: 'alice@example.org', displayName: '  Alice  ', roles: ['admin', 'admin'] });
    t.equal(updated.status, 200, updated.text);
    t.match(updated.body, { email: 'alice@example.org', displayName: 'Alice', roles: ['admin'] });
    t.ok(Date.parse(updated.body.updatedAt) >= Date.parse(got.body.updatedAt));
    const cleared = await call(url, 'PATCH', '/a/admin/users/alice', root.auth, { email: null, roles: [] });
    t.match(cleared.body, { email: null, displayName: 'Alice', roles: [] });
    const same = await call(url, 'PATCH', '/a/admin/users/alice', root.auth, { roles: [] });
    t.equal(same.status, 200, 'a change to nothing is fine');
    for (const [body, pattern] of [
      [{}, /^body: give at least one of email, displayName, roles/],
      [{ login: 'alicia' }, /^body: Unrecognized key: "login"/],
      [{ email: 'nope' }, /^body\.email: not an e-mail address/],
      [{ roles: ['superuser'] }, /^body\.roles\.0: /],
    ] as const) {
      const res = await call(url, 'PATCH', '/a/admin/users/alice', root.auth, body);
      t.equal(res.status, 400, `${JSON.stringify(body)} → 400`);
      t.match(res.body.error_description, pattern, res.body.error_description);
    }
    t.equal((await call(url, 'PATCH', '/a/admin/users/nobody', root.auth, { roles: [] })).status, 404);
    const demoteSelf = await call(url, 'PATCH', '/a/admin/users/root', root.auth, { roles: [] });
    t.equal(demoteSelf.status, 409, 'an administrator cannot remove their own admin role');
    t.match(demoteSelf.body.error_description, /another administrator/);
    t.equal((await call(url, 'PATCH', '/a/admin/users/root', root.auth, { displayName: 'Root' })).status, 200, 'but may change the rest');

    t.equal(await verify(), 200);
    const flow = await signIn(url, { clientId: 'cells-sync', redirectUri: REDIRECT, login: 'alice', password: 'correct horse battery' });
    const tokens = await tokenRequest(url, { grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: 'cells-sync', code_verifier: flow.verifier });
    const silentSignIn = async () => {
      const back = await follow(flow.jar, url, await browse(flow.jar, authorizeUrl(url, { clientId: 'cells-sync', redirectUri: REDIRECT, extra: { prompt: 'none' } }).url));
      return back instanceof URL ? (back.searchParams.get('error') ?? 'signed in') : `a page (${back.status})`;
    };
    t.equal(await silentSignIn(), 'signed in', 'her browser session signs her in silently');
    const locked = await call(url, 'POST', '/a/admin/users/alice/lock', root.auth);
    t.equal(locked.status, 200);
    t.equal(locked.body.locked, true);
    t.equal(await verify(), 401, 'a locked user’s PAT is refused');
    t.equal((await fetch(`${url}/oidc/userinfo`, { headers: bearer(String(tokens.body.access_token)) })).status, 401, 'her access token too');
    t.equal(await silentSignIn(), 'login_required', 'her browser session has ended (no error page)');
    t.equal((await ctx.users.authenticate('alice', 'correct horse battery')).ok, false, 'and so is their password');
    t.equal((await call(url, 'POST', '/a/admin/users/root/lock', root.auth)).status, 409, 'nobody locks themselves out');
    t.equal((await call(url, 'POST', '/a/admin/users/nobody/lock', root.auth)).status, 404);
    await ctx.users.authenticate('alice', 'wrong password');
    const unlocked = await call(url, 'POST', '/a/admin/users/alice/unlock', root.auth);
    t.match(unlocked.body, { locked: false, failedLogins: 0 }, 'unlocked, failed attempts forgotten');
    t.equal(await verify(), 200, 'the PAT works again');
    const refresh = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: 'cells-sync' });
    t.equal(refresh.body.error, 'invalid_grant', 'a refresh token from before the lock stays dead after the unlock');
    t.equal(await silentSignIn(), 'login_required', 'and so does the browser session');

    // A new password ends what the old one signed in (it is reset because it leaked); keepSessions
    // keeps it (a routine rotation). The PAT is a credential of its own and stays.
    const signedIn = async (password: string) => {
      const again = await signIn(url, { clientId: 'cells-sync', redirectUri: REDIRECT, login: 'alice', password });
      const issued = await tokenRequest(url, { grant_type: 'authorization_code', code: again.code, redirect_uri: REDIRECT, client_id: 'cells-sync', code_verifier: again.verifier });
      const silent = async () => {
        const back = await follow(again.jar, url, await browse(again.jar, authorizeUrl(url, { clientId: 'cells-sync', redirectUri: REDIRECT, extra: { prompt: 'none' } }).url));
        return back instanceof URL ? (back.searchParams.get('error') ?? 'signed in') : `a page (${back.status})`;
      };
      const refreshes = async () =>
        (await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: String(issued.body.refresh_token), client_id: 'cells-sync' })).status;
      return { silent, refreshes, accessToken: String(issued.body.access_token) };
    };
    const before = await signedIn('correct horse battery');
    const given = await call(url, 'PUT', '/a/admin/users/alice/password', root.auth, { password: 'a brand new secret' });
    t.equal(given.status, 200, given.text);
    t.equal(given.body.password, undefined);
    t.equal(given.body.user.login, 'alice');
    t.ok(given.body.endedSessions >= 3, `the session, grant and tokens of the old password ended (${given.body.endedSessions})`);
    t.equal((await ctx.users.authenticate('alice', 'correct horse battery')).ok, false, 'the old password is gone');
    t.equal((await ctx.users.authenticate('alice', 'a brand new secret')).ok, true);
    t.equal(await before.silent(), 'login_required', 'the browser session of the old password has ended');
    t.equal(await before.refreshes(), 400, 'its refresh token is dead');
    t.equal((await fetch(`${url}/oidc/userinfo`, { headers: bearer(before.accessToken) })).status, 401, 'its access token too');
    t.equal(await verify(), 200, 'her PAT stays');

    const rotated = await signedIn('a brand new secret');
    const kept = await call(url, 'PUT', '/a/admin/users/alice/password', root.auth, { password: 'a routine rotation', keepSessions: true });
    t.equal(kept.status, 200, kept.text);
    t.equal(kept.body.endedSessions, 0, 'keepSessions: nothing ends');
    t.equal(await rotated.silent(), 'signed in', 'the browser session goes on');
    t.equal(await rotated.refreshes(), 200, 'and so does the refresh token');
    const wrongFlag = await call(url, 'PUT', '/a/admin/users/alice/password', root.auth, { password: 'a routine rotation', keepSessions: 'yes' });
    t.equal(wrongFlag.status, 400);
    t.match(wrongFlag.body.error_description, /^body\.keepSessions: /);
    const noBody = await call(url, 'PUT', '/a/admin/users/alice/password', root.auth);
    t.equal(noBody.status, 400, 'a body is required');
    t.match(noBody.body.error_description, /^body: /);
    const generated = await fetch(`${url}/a/admin/users/alice/password`, { method: 'PUT', headers: { ...root.auth, 'content-type': 'application/json' }, body: '{}' });
    const generatedBody = (await generated.json()) as { password: string };
    t.equal(generated.status, 200, 'no password given: a generated one');
    t.equal(generated.headers.get('cache-control'), 'no-store');
    t.match(generatedBody.password, /^[A-Za-z0-9]{24}$/);
    t.equal((await ctx.users.authenticate('alice', generatedBody.password)).ok, true);
    const short = await call(url, 'PUT', '/a/admin/users/alice/password', root.auth, { password: 'short' });
    t.equal(short.status, 400);
    t.match(short.body.error_description, /^body\.password: must be at least 8/);
    t.equal((await call(url, 'PUT', '/a/admin/users/nobody/password', root.auth, {})).status, 404);

    const rows = await auditRows(ctx);
    const actions = rows.map((r) => `${r.action}:${r.target_id === alice.id ? 'alice' : r.target_id === root.id ? 'root' : r.target_id}`);
    t.same(
      actions.filter((a) => a.startsWith('user.')),
      ['user.updated:alice', 'user.updated:alice', 'user.updated:root', 'user.locked:alice', 'user.unlocked:alice', 'user.password_set:alice', 'user.password_set:alice', 'user.password_set:alice'],
      'one event per change; none for no-ops or refusals',
    );
    const [first, second] = rows.filter((r) => r.action === 'user.updated');
    t.same((first!.details as { changes: unknown }).changes, {
      email: { from: null, to: 'alice@example.org' },
      displayName: { from: null, to: 'Alice' },
      roles: { from: [], to: ['admin'] },
    });
    t.same((second!.details as { changes: unknown }).changes, { email: { from: 'alice@example.org', to: null }, roles: { from: ['admin'], to: [] } });
    t.match(rows.filter((r) => r.action === 'user.password_set').map((r) => r.details), [
      { generated: false, providerRecords: given.body.endedSessions },
      { generated: false, providerRecords: 0 },
      { generated: true },
    ]);
    const stored = JSON.stringify(rows);
    t.notOk(['a brand new secret', 'a routine rotation', generatedBody.password].some((p) => stored.includes(p)), 'no password in the trail');
  });

  t.test(`the admin scope: who may call it [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await makeUser(ctx, 'root', { admin: true });
    await makeUser(ctx, 'alice');
    const rootAt = await accessTokenFor(url, 'root');
    const aliceAt = await accessTokenFor(url, 'alice');
    const rootScoped = (await mintFor(ctx, root.id, { expire: '1h', scopes: 'node:0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11:rw' })).token;

    const none = await call(url, 'GET', '/a/admin/users');
    t.equal(none.status, 401);
    t.equal(none.headers.get('www-authenticate'), 'Bearer realm="cells-auth"');
    t.equal((await call(url, 'GET', '/a/admin/users', bearer(aliceAt))).status, 403, 'not an admin');
    const scoped = await call(url, 'POST', '/a/admin/users', bearer(rootScoped), { login: 'mallory' });
    t.equal(scoped.status, 403, 'an admin’s PAT limited to nodes never reaches the admin API');
    t.equal(scoped.body.error, 'insufficient_scope');
    t.equal(await ctx.users.findByLogin('mallory'), undefined);
    const viaAt = await call(url, 'POST', '/a/admin/users', bearer(rootAt), { login: 'dave' });
    t.equal(viaAt.status, 201, 'an admin’s access token');
    const event = (await auditRows(ctx)).find((r) => r.action === 'user.created')!;
    t.match(event.details, { credential: { type: 'access_token', id: null } }, 'the credential kind is recorded');
  });
}
