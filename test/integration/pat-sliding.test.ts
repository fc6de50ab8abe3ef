import t from 'tap';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { UnavailableError } from '../../src/errors/app-error.ts';
import { createPatRepository } from '../../src/pat/pat.repository.ts';
import { FLUSH_AFTER_MS } from '../../src/pat/pat-usage.ts';
import { createPatService } from '../../src/pat/pat.service.ts';
import { generatePat } from '../../src/pat/token-format.ts';
import { manualClock } from '../../src/util/clock.ts';
import { createLogger } from '../../src/util/logger.ts';
import type { Database } from '../../src/db/database.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp, freePort } from '../helpers/harness.ts';
import { makeUser, mintFor } from '../helpers/pat.ts';

const S = 1000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

for (const kind of dbKinds()) {
  t.test(`a sliding token used within its window outlives its first expiry; idle, it dies [${kind}]`, async (t) => {
    const clock = manualClock(T0);
    const { ctx } = await buildTestApp(t, { kind, clock, listen: false });
    const alice = await makeUser(ctx, 'alice');
    const { token, pat } = await mintFor(ctx, alice.id, { auto: '600' });
    t.equal(pat.currentExpiry, new Date(T0 + 600 * S).toISOString(), 'first expiry: now + window');
    t.equal(pat.expiresAt, null, 'no hard expiry');

    clock.advance(500 * S);
    const first = await ctx.pats.verify(token, '192.0.2.1');
    t.ok(first, 'good at 500 s');
    t.equal(first!.expiresAt.getTime(), T0 + 1100 * S, 'the use moved the expiry to now + window');

    clock.advance(500 * S); // T0 + 1000 s: past the first expiry (600 s), within the moved one
    t.ok(await ctx.pats.verify(token), 'still good at 1000 s, past its first expiry');

    clock.advance(600 * S); // exactly the window after the last use: now == expiry, not before it
    t.equal(await ctx.pats.verify(token), undefined, 'idle for a whole window: dead');
    clock.advance(3600 * S);
    t.equal(await ctx.pats.verify(token), undefined, 'and it stays dead');

    const [listed] = await ctx.pats.list(alice.id);
    t.equal(listed!.status, 'expired');
    t.equal(listed!.currentExpiry, new Date(T0 + 1600 * S).toISOString(), 'refused uses did not move the expiry');
    t.equal(listed!.lastUsedAt, new Date(T0 + 1000 * S).toISOString(), 'last use recorded');
    t.equal(listed!.lastUsedFrom, '192.0.2.1', 'an unknown address keeps the last known one');
  });

  t.test(`the hard expiry caps the sliding window [${kind}]`, async (t) => {
    const clock = manualClock(T0);
    const { ctx } = await buildTestApp(t, { kind, clock, listen: false });
    const bob = await makeUser(ctx, 'bob');
    const { token, pat } = await mintFor(ctx, bob.id, { expire: '1000s', auto: '10m' });
    t.equal(pat.currentExpiry, new Date(T0 + 600 * S).toISOString());
    t.equal(pat.expiresAt, new Date(T0 + 1000 * S).toISOString());

    clock.set(T0 + 500 * S);
    t.equal((await ctx.pats.verify(token))!.expiresAt.getTime(), T0 + 1000 * S, 'moved, but only up to the hard expiry');
    clock.set(T0 + 999 * S);
    t.equal((await ctx.pats.verify(token))!.expiresAt.getTime(), T0 + 1000 * S, 'never past it');
    clock.set(T0 + 1000 * S);
    t.equal(await ctx.pats.verify(token), undefined, 'dead at the hard expiry although used a second ago');
  });

  t.test(`a fixed expiry does not slide [${kind}]`, async (t) => {
    const clock = manualClock(T0);
    const { ctx } = await buildTestApp(t, { kind, clock, listen: false });
    const carol = await makeUser(ctx, 'carol');
    const { token } = await mintFor(ctx, carol.id, { expire: '1h' });
    clock.advance(3599 * S);
    t.equal((await ctx.pats.verify(token, '2001:db8::1'))!.expiresAt.getTime(), T0 + 3600 * S);
    clock.advance(1 * S);
    t.equal(await ctx.pats.verify(token), undefined);
    const [listed] = await ctx.pats.list(carol.id);
    t.equal(listed!.lastUsedFrom, '2001:db8::1');
  });

  t.test(`a fixed-expiry token's last use is written at most once a minute, or when its address changes [${kind}]`, async (t) => {
    const clock = manualClock(T0);
    const { ctx } = await buildTestApp(t, { kind, clock, listen: false });
    const cy = await makeUser(ctx, 'cy');
    const { token } = await mintFor(ctx, cy.id, { expire: '1h' });
    const lastUse = async () => {
      const [listed] = await ctx.pats.list(cy.id);
      return `${listed!.lastUsedAt} ${listed!.lastUsedFrom}`;
    };
    clock.set(T0 + 10 * S);
    t.ok(await ctx.pats.verify(token, '192.0.2.1'));
    t.equal(await lastUse(), `${new Date(T0 + 10 * S).toISOString()} 192.0.2.1`, 'the first use is written');
    clock.set(T0 + 69 * S);
    t.ok(await ctx.pats.verify(token, '192.0.2.1'), 'a use 59 s later is good');
    t.equal(await lastUse(), `${new Date(T0 + 10 * S).toISOString()} 192.0.2.1`, 'but not written');
    clock.set(T0 + 70 * S);
    t.ok(await ctx.pats.verify(token, '192.0.2.1'));
    t.equal(await lastUse(), `${new Date(T0 + 70 * S).toISOString()} 192.0.2.1`, 'a minute after the written one: written');
    clock.set(T0 + 71 * S);
    t.ok(await ctx.pats.verify(token, '192.0.2.2'));
    t.equal(await lastUse(), `${new Date(T0 + 71 * S).toISOString()} 192.0.2.2`, 'from another address: written at once');
    clock.set(T0 + 72 * S);
    t.ok(await ctx.pats.verify(token));
    t.equal(await lastUse(), `${new Date(T0 + 71 * S).toISOString()} 192.0.2.2`, 'an unknown address is no change');
  });

  t.test(`concurrent uses never move the expiry backwards [${kind}]`, async (t) => {
    const clock = manualClock(T0);
    const { ctx } = await buildTestApp(t, { kind, clock, listen: false });
    const dan = await makeUser(ctx, 'dan');
    const { token } = await mintFor(ctx, dan.id, { auto: '600' });
    // Uses stamped 1..40 s, started in a scrambled order and run at once: the latest stamp must win
    // whatever order the database applies them in.
    const stamps = Array.from({ length: 40 }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % 41) - ((b * 7919) % 41));
    const uses = stamps.map((s) => {
      clock.set(T0 + s * S); // verify reads the clock before its first await
      return ctx.pats.verify(token);
    });
    const results = await Promise.all(uses);
    t.ok(results.every(Boolean), 'every use was good');
    const [listed] = await ctx.pats.list(dan.id);
    t.equal(listed!.currentExpiry, new Date(T0 + 40 * S + 600 * S).toISOString(), 'the expiry of the latest use');
    t.equal(listed!.lastUsedAt, new Date(T0 + 40 * S).toISOString(), 'the latest use');
  });

  t.test(`revoked, locked owner, unknown and malformed tokens are refused [${kind}]`, async (t) => {
    const clock = manualClock(T0);
    const { ctx } = await buildTestApp(t, { kind, clock, listen: false });
    const erin = await makeUser(ctx, 'erin');
    const a = await mintFor(ctx, erin.id, { expire: '1h' });
    const b = await mintFor(ctx, erin.id, { expire: '1h' });
    t.ok(await ctx.pats.verify(a.token));
    t.equal(await ctx.pats.revoke(a.pat.id), 'revoked');
    t.equal(await ctx.pats.verify(a.token), undefined, 'revoked: refused at once');
    t.equal(await ctx.pats.revoke(a.pat.id), 'already-revoked');
    t.equal(await ctx.pats.revoke('00000000-0000-4000-8000-000000000000'), 'not-found');
    t.ok(await ctx.pats.verify(b.token), 'the other token is untouched');

    t.equal(await ctx.pats.verify(generatePat()), undefined, 'well-formed but unknown');
    // (Another last character than the real one: 'x' was it one time in 62.)
    t.equal(await ctx.pats.verify(`${b.token.slice(0, -1)}${b.token.endsWith('x') ? 'y' : 'x'}`), undefined, 'checksum broken');

    // Locked through cells-auth (the admin API and the CLI call this): refused once it answers. A
    // lock written by other means is seen within a second (pat-cache.test.ts).
    await ctx.usersAdmin.lock('erin', null);
    t.equal(await ctx.pats.verify(b.token), undefined, 'a locked owner’s token is refused');
  });

  t.test(`the secret is never stored and never listed; deleting the owner deletes the tokens [${kind}]`, async (t) => {
    const { ctx } = await buildTestApp(t, { kind, listen: false });
    const fay = await makeUser(ctx, 'fay');
    const { token, pat } = await mintFor(ctx, fay.id, { expire: '1h', scopes: 'node:0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11:r' });
    const rows = await sql`select * from personal_access_tokens`.execute(ctx.db.db);
    const dump = JSON.stringify(rows.rows);
    t.notOk(dump.includes(token), 'the table holds no token');
    t.notOk(dump.includes(token.slice(4, 47)), 'not even its random part');
    const listed = await ctx.pats.list(fay.id);
    t.notOk(JSON.stringify(listed).includes(token.slice(4, 47)), 'the list holds no secret');
    t.same(listed[0]!.scopes, ['node:0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11:r']);
    t.equal(listed[0]!.id, pat.id);
    await sql`delete from users where id = ${fay.id}`.execute(ctx.db.db);
    const left = await sql<{ n: number }>`select (select count(*) from personal_access_tokens)::int + (select count(*) from personal_access_token_nodes)::int as n`.execute(ctx.db.db);
    t.equal(left.rows[0]!.n, 0, 'on delete cascade');
  });
}

t.test('a storage failure is an error, never "inactive"', async (t) => {
  const port = await freePort(); // nothing listens there
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/none`, connectionTimeoutMillis: 2000 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  t.teardown(() => db.destroy());
  const pats = createPatService({ repo: createPatRepository(db), clock: manualClock(T0), log: createLogger('silent') });
  const failed = await pats.verify(generatePat()).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(failed instanceof UnavailableError, 'UnavailableError (503)');
  t.equal(await pats.verify('cap_mistyped'), undefined, 'a malformed token is refused before any query, so even then');
});

for (const kind of dbKinds()) {
  t.test(`uses reach the database by themselves within 1 s, waiting ${FLUSH_AFTER_MS} ms (what a killed process can lose) [${kind}]`, async (t) => {
    const clock = manualClock(T0);
    const { ctx } = await buildTestApp(t, { kind, clock, listen: false });
    const gil = await makeUser(ctx, 'gil');
    const { token, pat } = await mintFor(ctx, gil.id, { auto: '600' });
    clock.advance(100 * S);
    t.ok(await ctx.pats.verify(token, '192.0.2.7'));
    // Read the row directly: nothing on this instance (no listing, no shutdown) asks for the write.
    const row = async () =>
      (await sql<{ current_expiry: Date; last_used_from: string | null }>`select greatest(p.current_expiry, u.slid_expiry) as current_expiry, u.last_used_from
        from personal_access_tokens p left join pat_uses u on u.token_id = p.id where p.id = ${pat.id}`.execute(ctx.db.db)).rows[0]!;
    // SPEC: at most 1 s of slide lost. The write itself gets what the wait leaves of that second.
    t.ok(FLUSH_AFTER_MS <= 500, 'uses wait at most half the second');
    await new Promise((r) => setTimeout(r, 1000));
    const stored = await row();
    t.equal(stored.current_expiry.getTime(), T0 + 700 * S, 'the slide is stored, as another instance will read it');
    t.equal(stored.last_used_from, '192.0.2.7');
  });
}
