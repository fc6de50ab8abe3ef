import t from 'tap';
import { decodeProtectedHeader } from 'jose';
import { auditRows, call, rootAdmin } from '../helpers/admin.ts';
import { dbKinds } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { makeUser } from '../helpers/pat.ts';

const REDIRECT = 'http://localhost:3636/servers/callback';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function idTokenKid(url: string, login: string): Promise<string> {
  const flow = await signIn(url, { clientId: 'cells-sync', redirectUri: REDIRECT, login, password: 'correct horse battery' });
  const res = await tokenRequest(url, { grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, client_id: 'cells-sync', code_verifier: flow.verifier });
  return decodeProtectedHeader(String(res.body.id_token)).kid!;
}

async function publishedKids(url: string): Promise<string[]> {
  const jwks = (await (await fetch(`${url}/oidc/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
  return jwks.keys.map((k) => k.kid).sort();
}

for (const kind of dbKinds()) {
  t.test(`keys: list without key material; rotate takes effect on this instance at once [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    await makeUser(ctx, 'alice');

    const listed = await call(url, 'GET', '/a/admin/keys', root.auth);
    t.equal(listed.status, 200);
    const states = listed.body.keys.map((k: { state: string }) => k.state).sort();
    t.same(states, ['active', 'next'], 'one signing key, one published next key');
    for (const field of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"', 'private', '"n"']) t.notOk(listed.text.includes(field), `no ${field} in the answer`);
    const active = listed.body.keys.find((k: { state: string }) => k.state === 'active').kid;
    const next = listed.body.keys.find((k: { state: string }) => k.state === 'next').kid;
    t.equal(await idTokenKid(url, 'alice'), active, 'ID tokens are signed with the active key');

    const rotated = await call(url, 'POST', '/a/admin/keys/rotate', root.auth);
    t.equal(rotated.status, 200, rotated.text);
    t.equal(rotated.body.activated, next, 'the published next key signs now');
    t.equal(rotated.body.retired, active);
    t.not(rotated.body.next, next);
    // No background poll runs in tests: only the route's own reload can make this true.
    t.equal(await idTokenKid(url, 'alice'), next, 'the very next ID token is signed with it');
    t.same(await publishedKids(url), [active, next, rotated.body.next].sort(), 'the JWKS holds the retired, the active and the new next key');

    const after = await call(url, 'GET', '/a/admin/keys', root.auth);
    const retired = after.body.keys.find((k: { kid: string }) => k.kid === active);
    t.equal(retired.state, 'retired');
    t.ok(Date.parse(retired.publishUntil) >= Date.now() + ctx.config.ttl.idToken * 1000 - 60_000, 'published until its longest token has expired');

    const events = (await auditRows(ctx)).filter((r) => r.action === 'keys.rotated');
    t.equal(events.length, 1);
    t.match(events[0], { actor_id: root.id, actor_login: 'root', address: '127.0.0.1', target_type: 'signing_key', target_id: next, details: { activated: next, retired: active } });
  });

  t.test(`audit: filters, newest first, keyset paging, bad filters named [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    const created: string[] = [];
    for (const login of ['alice', 'bob', 'carol']) {
      created.push((await call(url, 'POST', '/a/admin/users', root.auth, { login, password: 'correct horse battery' })).body.id);
      await sleep(5);
    }
    const mark = new Date();
    await sleep(5);
    await call(url, 'POST', '/a/admin/users/bob/lock', root.auth);
    await sleep(5);
    await ctx.audit.record({ action: 'login.failure', outcome: 'failure', actor: { id: created[2], login: 'carol' }, address: '192.0.2.7' });

    const all = await call(url, 'GET', '/a/admin/audit', root.auth);
    t.equal(all.status, 200, all.text);
    t.same(all.body.events.map((e: { action: string }) => e.action), ['login.failure', 'user.locked', 'user.created', 'user.created', 'user.created'], 'newest first');
    t.equal(all.body.nextCursor, null);
    t.match(all.body.events[1], { outcome: 'success', actor: { id: root.id, login: 'root' }, address: '127.0.0.1', target: { type: 'user', id: created[1] }, details: { login: 'bob' } });
    t.ok(all.body.events.every((e: { at: string }) => !Number.isNaN(Date.parse(e.at))));

    const ids = (q: string) => call(url, 'GET', `/a/admin/audit?${q}`, root.auth).then((r) => r.body.events.map((e: { action: string; target: { id: string } | null }) => `${e.action}:${e.target?.id ?? '-'}`));
    t.same(await ids('action=user.created'), created.map((id) => `user.created:${id}`).reverse(), 'by action');
    t.same(await ids('actor=root&action=user.locked'), [`user.locked:${created[1]}`], 'by actor login');
    t.same(await ids(`actorId=${created[2]}`), ['login.failure:-'], 'by actor id');
    t.same(await ids(`target=${created[0]}`), [`user.created:${created[0]}`], 'by target');
    t.same(await ids('outcome=failure'), ['login.failure:-'], 'by outcome');
    t.same(await ids(`since=${mark.toISOString()}`), ['login.failure:-', `user.locked:${created[1]}`], 'since (inclusive)');
    t.same(await ids(`until=${encodeURIComponent(mark.toISOString())}&action=user.created&limit=1`), [`user.created:${created[2]}`], 'until, with a limit');
    const markPlusOne = encodeURIComponent(new Date(mark.getTime() + 3_600_000).toISOString().replace('Z', '+01:00'));
    t.same(await ids(`since=${markPlusOne}`), ['login.failure:-', `user.locked:${created[1]}`], 'the same instant written with an offset');
    t.same(await ids('actor=nobody'), []);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(url, 'GET', `/a/admin/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`, root.auth);
      t.equal(res.status, 200);
      seen.push(...res.body.events.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
      pages++;
      // Events written while paging are newer than the cursor: they never shift a page.
      if (pages === 1) await call(url, 'POST', '/a/admin/users/bob/unlock', root.auth);
    } while (cursor && pages < 10);
    t.equal(pages, 3);
    t.same(seen, all.body.events.map((e: { id: string }) => e.id), 'every event once, in order');

    for (const [query, pattern] of [
      ['action=user.exploded', /^querystring\.action: /],
      ['outcome=maybe', /^querystring\.outcome: /],
      ['since=yesterday', /^querystring\.since: /],
      ['until=2026-02-30T00:00:00Z', /^querystring\.until: /],
      ['actorId=root', /^querystring\.actorId: /],
      ['cursor=abc', /^querystring\.cursor: not a cursor this API returned/],
      ['cursor=99999999999999999999', /^querystring\.cursor: /],
      ['target=%00', /^querystring\.target: must not contain a NUL/],
      ['limit=501', /^querystring\.limit: /],
      ['who=root', /^querystring: Unrecognized key: "who"/],
    ] as const) {
      const res = await call(url, 'GET', `/a/admin/audit?${query}`, root.auth);
      t.equal(res.status, 400, `${query} → 400`);
      t.match(res.body.error_description, pattern, res.body.error_description);
    }
  });
}
