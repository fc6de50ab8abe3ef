import pino from 'pino';
import t from 'tap';
import { READ_AHEAD_MS } from '../../src/pat/pat-cache.ts';
import type { PatRepository, VerifiedRow } from '../../src/pat/pat.repository.ts';
import { createPatService, READ_AHEAD_GATHER_MS } from '../../src/pat/pat.service.ts';
import { generatePat, patDigest } from '../../src/pat/token-format.ts';

// A kept token in use is read again before its time, in the background, and never waits for that
// read; those due together are read in one statement; one unused past its time is read by the
// check that comes. The store is a stand-in that
// counts its reads, the kept tokens' clock the test's (the real store: integration/pat-cache.test.ts).

const FIVE_MINUTES = 5 * 60_000;
// A kept token is read again at a time drawn between two and a half and five minutes: here, five.
const random = Math.random;
Math.random = () => 1 - Number.EPSILON;
t.teardown(() => void (Math.random = random));

function setup(count = 1) {
  const tokens = Array.from({ length: count }, () => generatePat());
  const rows = new Map<string, VerifiedRow>(
    tokens.map((token, i) => {
      const digest = patDigest(token);
      return [
        digest,
        {
          digest,
          id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
          user_id: 'u1',
          created_ms: 0,
          expires_ms: null,
          window_seconds: null,
          current_expiry_ms: Date.now() + 3_600_000,
          last_used_ms: Date.now(),
          last_used_from: null,
          login: 'alice',
          roles: [],
          grants: [],
        },
      ];
    }),
  );
  let reads = 0;
  let failing = false;
  const repo = {
    lookup: async (digests: string[]) => {
      reads++;
      if (failing) throw new Error('store away');
      return new Map(digests.filter((d) => rows.has(d)).map((d) => [d, { ...rows.get(d)! }]));
    },
    changesSince: async () => ({ xmin: '1', changes: [] }),
    pruneChanges: async () => {},
    recordUses: async () => {},
  } as unknown as PatRepository;
  let clock = 0;
  const pats = createPatService({ repo, clock: { now: () => Date.now() }, log: pino({ enabled: false }), cacheSize: 10, monotonic: () => clock });
  pats.watch();
  return {
    pats,
    token: tokens[0]!,
    tokens,
    reads: () => reads,
    fail: (f: boolean) => void (failing = f),
    /** Moves the kept tokens' clock, and lets the change feed be read at the new time (it polls every 100 ms). */
    async advance(ms: number) {
      clock += ms;
      await new Promise((resolve) => setTimeout(resolve, 150));
    },
  };
}

/** The reads ahead gathered so far are sent, and answered. */
const settled = () => new Promise((resolve) => setTimeout(resolve, READ_AHEAD_GATHER_MS + 20));

t.test('a token checked within a minute of its read is read again then, answered from memory meanwhile', async (t) => {
  const s = setup();
  t.teardown(() => s.pats.close());
  await s.advance(0);
  t.ok(await s.pats.verify(s.token), 'the first check reads it');
  t.equal(s.reads(), 1);
  t.ok(s.pats.verifyKept(s.token), 'then it is kept');
  t.equal(s.reads(), 1, 'no read while it is young');

  await s.advance(FIVE_MINUTES - READ_AHEAD_MS + 1);
  t.ok(s.pats.verifyKept(s.token), 'within a minute of its time: still answered from memory');
  t.ok(s.pats.verifyKept(s.token));
  await settled();
  t.equal(s.reads(), 2, 'and read again once, in the background');
  await s.advance(READ_AHEAD_MS);
  t.ok(s.pats.verifyKept(s.token), 'past the time it had: answered from memory, read ahead of it');
  t.equal(s.reads(), 2);
});

t.test('unused past its time: the check reads it; a failed read ahead leaves it to that check', async (t) => {
  const s = setup();
  t.teardown(() => s.pats.close());
  await s.advance(0);
  await s.pats.verify(s.token);
  await s.advance(FIVE_MINUTES + 1);
  t.equal(s.pats.verifyKept(s.token), undefined, 'memory cannot say');
  t.ok(await s.pats.verify(s.token), 'the check reads it');
  t.equal(s.reads(), 2);

  await s.advance(FIVE_MINUTES - READ_AHEAD_MS + 1);
  s.fail(true);
  t.ok(s.pats.verifyKept(s.token), 'answered from memory while the read ahead fails');
  await settled();
  t.equal(s.reads(), 3, 'one read tried');
  t.ok(s.pats.verifyKept(s.token));
  await settled();
  t.equal(s.reads(), 3, 'none again at once after a failure');
  await s.advance(READ_AHEAD_MS);
  t.equal(s.pats.verifyKept(s.token), undefined, 'past its time: memory cannot say');
  await t.rejects(s.pats.verify(s.token), 'and the check itself reads, and fails, and says so');
});

t.test('tokens due together are read ahead in one statement', async (t) => {
  const s = setup(5);
  t.teardown(() => s.pats.close());
  await s.advance(0);
  for (const token of s.tokens) t.ok(await s.pats.verify(token));
  t.equal(s.reads(), 5, 'each read at its first check');
  await s.advance(FIVE_MINUTES - READ_AHEAD_MS + 1);
  // Checked one after the other, in turns of the event loop apart (each alone would go out at the
  // end of its own turn).
  for (const token of s.tokens) {
    t.ok(s.pats.verifyKept(token), 'answered from memory');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.equal(s.reads(), 5, 'nothing sent yet');
  await settled();
  t.equal(s.reads(), 6, 'all five in one read');
  await s.advance(READ_AHEAD_MS);
  for (const token of s.tokens) t.ok(s.pats.verifyKept(token), 'kept past the time they had');
  t.equal(s.reads(), 6);
});
