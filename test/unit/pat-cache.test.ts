import t from 'tap';
import pino from 'pino';
import { createPatCache, FRESH_MS, MAX_AGE_MS, MAX_CHANGES, type ChangeFeed, type PatChange } from '../../src/pat/pat-cache.ts';
import type { VerifiedRow } from '../../src/pat/pat.repository.ts';

// The cache's rules with a feed and a clock in the test's hands (the real feed, on both databases,
// is in test/integration/pat-cache.test.ts).

const row = (id: string, user = 'u1'): VerifiedRow => ({
  digest: `d-${id}`,
  id,
  user_id: user,
  created_ms: 0,
  expires_ms: null,
  window_seconds: 600,
  current_expiry_ms: 1e15,
  last_used_ms: null,
  last_used_from: null,
  login: user,
  roles: [],
  grants: [],
});

function setup(size = 3) {
  let clock = 0;
  let xmin = 1;
  let changes: PatChange[] = [];
  let down = false;
  const reads: (string | null)[] = [];
  const feed: ChangeFeed = {
    async read(from, limit) {
      reads.push(from);
      if (down) throw new Error('database away');
      return { xmin: String(xmin), changes: from === null ? [] : changes.slice(0, limit) };
    },
    async prune() {},
  };
  const cache = createPatCache({ size, feed, log: pino({ enabled: false }), now: () => clock, pollMs: 1e9 });
  cache.start(); // the first read is under way; later ones only when the test calls poll()
  return {
    cache,
    reads,
    tick: (ms: number) => void (clock += ms),
    feedHas: (c: PatChange[]) => void (changes = c),
    advanceXmin: () => void xmin++,
    breakFeed: (b: boolean) => void (down = b),
    keep: (id: string, user?: string) => cache.set(`d-${id}`, row(id, user), cache.ticket()),
  };
}

t.test('nothing is answered from memory before the feed is read, nor once it is late', async (t) => {
  const s = setup();
  t.teardown(() => s.cache.stop());
  s.keep('a');
  t.equal(s.cache.get('d-a'), undefined, 'not kept while the first read was under way');
  await s.cache.poll();
  s.keep('a');
  t.same(s.cache.get('d-a')?.id, 'a', 'kept and answered once the feed is read');
  s.tick(FRESH_MS - 1);
  t.ok(s.cache.get('d-a'), 'still answered just inside the freshness bound');
  s.tick(1);
  t.equal(s.cache.get('d-a'), undefined, 'not answered once the last read began FRESH_MS ago');

  s.breakFeed(true);
  await s.cache.poll();
  t.equal(s.cache.get('d-a'), undefined, 'a failing read does not make it fresh (fails closed)');
  t.equal(s.cache.stats().fresh, false);
  s.breakFeed(false);
  await s.cache.poll();
  t.ok(s.cache.get('d-a'), 'back once the feed is read again; the entry survived the short outage');
});

t.test('each check memory cannot answer counts once, with its reason; a first look counts no miss', async (t) => {
  const s = setup();
  t.teardown(() => s.cache.stop());
  const counts = () => {
    const { hits, misses, unknown, due, stale } = s.cache.stats();
    return { hits, misses, unknown, due, stale };
  };
  t.same(counts(), { hits: 0, misses: 0, unknown: 0, due: 0, stale: 0 });
  t.equal(s.cache.get('d-a'), undefined);
  t.same(counts(), { hits: 0, misses: 1, unknown: 0, due: 0, stale: 1 }, 'before the first read of the feed: stale');
  await s.cache.poll();
  t.equal(s.cache.get('d-a', false), undefined);
  t.same(counts(), { hits: 0, misses: 1, unknown: 0, due: 0, stale: 1 }, 'a first look whose miss another lookup counts');
  t.equal(s.cache.get('d-a'), undefined);
  t.same(counts(), { hits: 0, misses: 2, unknown: 1, due: 0, stale: 1 }, 'not kept');
  s.keep('a');
  t.ok(s.cache.get('d-a', false));
  t.ok(s.cache.get('d-a'));
  t.same(counts(), { hits: 2, misses: 2, unknown: 1, due: 0, stale: 1 }, 'hits count either way');
  for (let elapsed = 0; elapsed <= MAX_AGE_MS; elapsed += 200) {
    s.tick(200);
    await s.cache.poll();
  }
  t.equal(s.cache.get('d-a'), undefined);
  t.same(counts(), { hits: 2, misses: 3, unknown: 1, due: 1, stale: 1 }, 'kept past its time to be read again: due');
  s.tick(FRESH_MS);
  t.equal(s.cache.get('d-a'), undefined);
  t.same(counts(), { hits: 2, misses: 4, unknown: 1, due: 1, stale: 2 }, 'the feed late: stale, whatever is kept');
});

t.test('a change drops the tokens it names, and every token of a user it names', async (t) => {
  const s = setup(10);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  s.keep('a', 'u1');
  s.keep('b', 'u1');
  s.keep('c', 'u2');
  s.keep('d', 'u2');
  s.feedHas([
    { seq: 1, token: 'c', user: null },
    { seq: 2, token: null, user: 'u1' },
  ]);
  await s.cache.poll();
  t.same(['a', 'b', 'c', 'd'].filter((id) => s.cache.get(`d-${id}`)), ['d']);
  t.equal(s.reads.at(-1), '1', 'asked for what its previous snapshot did not see');
});

t.test('a lookup under way when a change arrives is not kept; a change read twice counts once', async (t) => {
  const s = setup();
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  const ticket = s.cache.ticket();
  s.feedHas([{ seq: 7, token: 'zzz', user: null }]);
  await s.cache.poll();
  s.cache.set('d-a', row('a'), ticket);
  t.equal(s.cache.get('d-a'), undefined, 'the lookup began before the change was read: it may predate it');

  const later = s.cache.ticket();
  await s.cache.poll(); // the same change again (its transaction still at or above xmin)
  s.cache.set('d-a', row('a'), later);
  t.ok(s.cache.get('d-a'), 'a change already applied does not stop later lookups from being kept');
});

t.test('the first read distrusts lookups that began before it', async (t) => {
  const s = setup();
  t.teardown(() => s.cache.stop());
  const ticket = s.cache.ticket();
  await s.cache.poll();
  s.cache.set('d-a', row('a'), ticket);
  t.equal(s.cache.get('d-a'), undefined, 'what changed before the first read is unknown');
});

t.test('bounded: about the least recently used goes first; an entry is read again after five minutes', async (t) => {
  const s = setup(3);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  s.keep('a');
  s.keep('b');
  s.keep('c');
  s.cache.get('d-a'); // a is now the most recent
  s.keep('d'); // b goes
  t.same(['a', 'b', 'c', 'd'].filter((id) => s.cache.get(`d-${id}`)), ['a', 'c', 'd']);
  t.equal(s.cache.stats().size, 3);

  for (let i = 0; i < 1501; i++) {
    s.tick(200);
    await s.cache.poll();
  }
  t.equal(s.cache.get('d-a'), undefined, 'five minutes old: read again');
});

t.test('with more tokens than room: bounded, the tokens in use stay, forgotten ones free their place', async (t) => {
  const s = setup(100);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  const hot = Array.from({ length: 20 }, (_, i) => `hot${i}`);
  for (const id of hot) s.keep(id);
  // A stream of tokens seen once each (a proxy's passers-by), the hot ones checked in between.
  let largest = 0;
  for (let i = 0; i < 5000; i++) {
    s.keep(`once${i}`);
    largest = Math.max(largest, s.cache.stats().size);
    s.cache.get(`d-${hot[i % hot.length]}`);
  }
  t.equal(largest, 100, 'full, never over');
  t.same(hot.filter((id) => !s.cache.get(`d-${id}`)), [], 'every token in steady use is still kept');
  // A change forgets a token; its place is taken by the next one without evicting another.
  s.feedHas([{ seq: 1, token: 'hot0', user: null }]);
  await s.cache.poll();
  t.equal(s.cache.stats().size, 99);
  s.keep('late');
  t.equal(s.cache.stats().size, 100);
  t.same(hot.slice(1).filter((id) => !s.cache.get(`d-${id}`)), [], 'the others all stay');
});

t.test('a flood of changes forgets everything rather than searching', async (t) => {
  const s = setup(3);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  s.keep('a', 'someone-else');
  s.feedHas(Array.from({ length: MAX_CHANGES + 1 }, (_, i) => ({ seq: i + 1, token: `t${i}`, user: null })));
  await s.cache.poll();
  t.equal(s.cache.stats().size, 0);
});

t.test('after a long outage nothing kept is trusted, and the feed starts over', async (t) => {
  const s = setup(3);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  s.keep('a');
  s.breakFeed(true);
  s.tick(11 * 60_000);
  await s.cache.poll();
  s.breakFeed(false);
  await s.cache.poll();
  t.equal(s.reads.at(-1), null, 'read from scratch (older changes may be pruned)');
  t.equal(s.cache.get('d-a'), undefined);
});

t.test('a cache of size 0 keeps nothing and never reads the feed', async (t) => {
  const s = setup(0);
  t.teardown(() => s.cache.stop());
  t.same(s.reads, []);
  s.keep('a');
  t.equal(s.cache.get('d-a'), undefined);
});

t.test('a kept token reads back as it was kept, nulls and all, as a copy of its own', async (t) => {
  const s = setup(10);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  const fixed: VerifiedRow = {
    ...row('f', 'u9'),
    created_ms: 1_700_000_000_123,
    expires_ms: 1_800_000_000_456,
    window_seconds: null,
    current_expiry_ms: 1_800_000_000_456,
    last_used_ms: 1_750_000_000_789,
    last_used_from: '192.0.2.7',
    roles: ['admin', 'user'],
    grants: [{ node: '7f3c9a52-0000-4000-8000-000000000001', perm: 'rw' }],
  };
  s.cache.set('d-f', fixed, s.cache.ticket());
  s.keep('s', 'u9');
  const { digest: _digest, ...expected } = fixed;
  t.same(s.cache.get('d-f'), expected, 'every field, a hard expiry and a last use included');
  const { digest: _d, ...sliding } = row('s', 'u9');
  t.same(s.cache.get('d-s'), sliding, 'no hard expiry, never used: nulls');

  const copy = s.cache.get('d-f')!;
  copy.last_used_ms = 0;
  copy.last_used_from = 'elsewhere';
  t.equal(s.cache.get('d-f')!.last_used_ms, fixed.last_used_ms, 'changing what a check read changes nothing kept');

  s.cache.noteUse('d-f', 1_760_000_000_000, null);
  t.same([s.cache.get('d-f')!.last_used_ms, s.cache.get('d-f')!.last_used_from], [1_760_000_000_000, '192.0.2.7'], 'a use from an unknown address keeps the known one');
  s.cache.noteUse('d-f', 1_760_000_000_001, '198.51.100.1');
  t.equal(s.cache.get('d-f')!.last_used_from, '198.51.100.1', 'a use from an address notes it');
  s.cache.noteUse('d-gone', 1, 'x');
  t.equal(s.cache.stats().size, 2, 'a use of a token not kept keeps nothing');

  s.cache.set('d-f', { ...fixed, current_expiry_ms: 1_790_000_000_000 }, s.cache.ticket());
  t.equal(s.cache.get('d-f')!.current_expiry_ms, 1_790_000_000_000, 'kept again: the newer read replaces the older, in place');
  t.equal(s.cache.stats().size, 2);
});

t.test('many tokens: the columns grow as they fill, every token reads back its own', async (t) => {
  const s = setup(5000);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  const ids = Array.from({ length: 4500 }, (_, i) => `t${i}`);
  for (const [i, id] of ids.entries()) s.cache.set(`d-${id}`, { ...row(id, `u${i % 7}`), created_ms: i, last_used_ms: i % 3 ? null : i * 2 }, s.cache.ticket());
  const wrong = ids.filter((id, i) => {
    const r = s.cache.get(`d-${id}`);
    return !r || r.id !== id || r.user_id !== `u${i % 7}` || r.created_ms !== i || r.last_used_ms !== (i % 3 ? null : i * 2);
  });
  t.same(wrong, [], 'past several doublings of the columns');
  t.equal(s.cache.stats().size, 4500);
});

t.test('tokens kept together are read again spread over the second half of five minutes, not at once', async (t) => {
  const s = setup(1000);
  t.teardown(() => s.cache.stop());
  await s.cache.poll();
  const ids = Array.from({ length: 1000 }, (_, i) => `t${i}`);
  for (const id of ids) s.keep(id);
  let elapsed = 0;
  const at = async (ms: number) => {
    for (; elapsed + 200 <= ms; elapsed += 200) {
      s.tick(200);
      await s.cache.poll(); // the feed stays fresh meanwhile
    }
  };
  const answered = () => ids.filter((id) => s.cache.get(`d-${id}`)).length;
  await at(150_000 - 200);
  t.equal(answered(), 1000, 'all still answered just before two and a half minutes');
  await at(225_000);
  const half = answered();
  t.ok(half > 300 && half < 700, `about half answered at three and three quarter minutes (${half})`);
  await at(300_200);
  t.equal(answered(), 0, 'none past five minutes');
});
