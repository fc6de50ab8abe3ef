import t from 'tap';
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createPatRepository } from '../../src/pat/pat.repository.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { makeUser, mintFor } from '../helpers/pat.ts';

// The statement that writes PAT uses (pat.repository.ts recordUses) on its own, as several
// instances send it: a token's first use inserts its row, a later one updates it in place, a token
// deleted meanwhile is skipped without failing the others, and writes that reach the database in
// any order, or at the same time, never move a time or an expiry back.

const S = 1000;
const T0 = Date.parse('2030-01-01T00:00:00Z');

for (const kind of dbKinds()) {
  t.test(`uses are written whatever order and mix they come in [${kind}]`, async (t) => {
    const { ctx } = await buildTestApp(t, { kind, listen: false });
    const db = ctx.db.db;
    const repo = createPatRepository(db);
    const owner = await makeUser(ctx, 'fay');
    const [a, b, gone] = await Promise.all([mintFor(ctx, owner.id, { auto: '600' }), mintFor(ctx, owner.id, { expire: '1h' }), mintFor(ctx, owner.id, { auto: '600' })]);
    const uses = async () =>
      (
        await sql<{ token_id: string; at: number; from: string | null; slid: number | null }>`
          select token_id, extract(epoch from last_used_at) * 1000 as at, last_used_from as from,
            extract(epoch from slid_expiry) * 1000 as slid
          from pat_uses order by token_id`.execute(db)
      ).rows.map((r) => ({ ...r, at: Number(r.at), slid: r.slid === null ? null : Number(r.slid) }));
    const rowOf = async (id: string) => (await uses()).find((u) => u.token_id === id);

    // First uses: rows inserted. The third token is deleted before its use reaches the database.
    await sql`delete from personal_access_tokens where id = ${gone.pat.id}`.execute(db);
    await repo.recordUses([
      { id: a.pat.id, atMs: T0 + 10 * S, from: '192.0.2.1', slidToMs: T0 + 610 * S },
      { id: b.pat.id, atMs: T0 + 10 * S, from: null, slidToMs: null },
      { id: gone.pat.id, atMs: T0 + 10 * S, from: '192.0.2.1', slidToMs: T0 + 610 * S },
    ]);
    t.same(
      (await uses()).map((u) => u.token_id).sort(),
      [a.pat.id, b.pat.id].sort(),
      'a row each for the two tokens; none for the deleted one, and no failure',
    );
    t.same(await rowOf(a.pat.id), { token_id: a.pat.id, at: T0 + 10 * S, from: '192.0.2.1', slid: T0 + 610 * S }, 'the sliding token: its use and slide');
    t.same(await rowOf(b.pat.id), { token_id: b.pat.id, at: T0 + 10 * S, from: null, slid: null }, 'the fixed one: its use, no slide');

    // Later uses update those rows; an older use arriving late moves nothing back, and an unknown
    // address keeps the known one.
    await repo.recordUses([{ id: a.pat.id, atMs: T0 + 30 * S, from: null, slidToMs: T0 + 630 * S }]);
    await repo.recordUses([
      { id: a.pat.id, atMs: T0 + 20 * S, from: '192.0.2.9', slidToMs: T0 + 620 * S },
      { id: b.pat.id, atMs: T0 + 40 * S, from: '192.0.2.2', slidToMs: null },
    ]);
    t.same(await rowOf(a.pat.id), { token_id: a.pat.id, at: T0 + 30 * S, from: '192.0.2.1', slid: T0 + 630 * S }, 'the latest use and the furthest slide win');
    t.same(await rowOf(b.pat.id), { token_id: b.pat.id, at: T0 + 40 * S, from: '192.0.2.2', slid: null }, 'a later use with an address');

    // Several instances at once: overlapping batches, in both orders, some rows new.
    const c = await mintFor(ctx, owner.id, { auto: '600' });
    const batches = Array.from({ length: 8 }, (_, i) => {
      const at = T0 + (100 + ((i * 5) % 8)) * S;
      return [
        { id: a.pat.id, atMs: at, from: `192.0.2.${10 + i}`, slidToMs: at + 600 * S },
        { id: c.pat.id, atMs: at, from: `192.0.2.${10 + i}`, slidToMs: at + 600 * S },
      ];
    });
    await Promise.all(batches.map((uses) => repo.recordUses(uses)));
    const last = T0 + 107 * S;
    for (const id of [a.pat.id, c.pat.id]) {
      const row = await rowOf(id);
      t.equal(row?.at, last, 'the latest of the concurrent uses');
      t.equal(row?.slid, last + 600 * S, 'and its slide');
      t.equal(row?.from, '192.0.2.13', 'and its address');
    }
  });
}

// Several instances write overlapping batches at once, in any order, some of whose tokens have no
// row yet: nothing fails (a deadlock, which Postgres breaks by failing one statement after a
// second), and each row ends with the latest use and the furthest slide sent for it.
for (const kind of dbKinds()) {
  t.test(`concurrent writers never deadlock and lose nothing [${kind}]`, async (t) => {
    const { ctx } = await buildTestApp(t, { kind, listen: false });
    const db = ctx.db.db;
    const repo = createPatRepository(db);
    const owner = await makeUser(ctx, 'gus');
    const ids = (await Promise.all(Array.from({ length: 12 }, () => mintFor(ctx, owner.id, { auto: '600' })))).map((m) => m.pat.id);
    const use = fc.record({ token: fc.nat({ max: ids.length - 1 }), at: fc.nat({ max: 1000 }), slide: fc.nat({ max: 1000 }) });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.nat({ max: ids.length - 1 })), // tokens that already have a row
        fc.array(fc.uniqueArray(use, { selector: (u) => u.token, minLength: 1 }), { minLength: 2, maxLength: 8 }),
        async (existing, batches) => {
          runs++;
          await sql`delete from pat_uses`.execute(db);
          if (existing.length > 0) await repo.recordUses(existing.map((i) => ({ id: ids[i]!, atMs: T0, from: null, slidToMs: T0 })));
          await Promise.all(batches.map((b) => repo.recordUses(b.map((u) => ({ id: ids[u.token]!, atMs: T0 + u.at * S, from: null, slidToMs: T0 + u.slide * S })))));
          const rows = new Map(
            (
              await sql<{ token_id: string; at: number; slid: number }>`
                select token_id, extract(epoch from last_used_at) * 1000 as at, extract(epoch from slid_expiry) * 1000 as slid from pat_uses`.execute(db)
            ).rows.map((r) => [r.token_id, { at: Number(r.at), slid: Number(r.slid) }]),
          );
          const want = new Map<string, { at: number; slid: number }>(existing.map((i) => [ids[i]!, { at: T0, slid: T0 }]));
          for (const u of batches.flat()) {
            const w = want.get(ids[u.token]!) ?? { at: 0, slid: 0 };
            want.set(ids[u.token]!, { at: Math.max(w.at, T0 + u.at * S), slid: Math.max(w.slid, T0 + u.slide * S) });
          }
          deepStrictEqual(rows, want); // throws, so that fast-check sees the failure and shrinks it
        },
      ),
      { numRuns: kind === 'postgres' ? 100 : 20 },
    );
    t.equal(runs, kind === 'postgres' ? 100 : 20, 'every run wrote and checked its rows');
  });
}
