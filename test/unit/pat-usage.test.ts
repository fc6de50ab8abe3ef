import t from 'tap';
import pino from 'pino';
import { createPatUsage, type PendingUse } from '../../src/pat/pat-usage.ts';

// How uses reach the writer (the real statement, on both databases, is in the PAT integration tests).

const use = (at: number): PendingUse => ({ at, from: null, expiry: at + 1000 });

t.test('a large write goes out as statements of at most 128 uses, each use once', async (t) => {
  const writes: string[][] = [];
  const usage = createPatUsage({ log: pino({ enabled: false }), flushAfterMs: 1e9, write: async (uses) => void writes.push(uses.map(([id]) => id)) });
  const ids = Array.from({ length: 300 }, (_, i) => `t${i}`);
  for (const id of ids) usage.record(id, use(1));
  await usage.flush();
  t.same(writes.map((w) => w.length), [128, 128, 44]);
  t.same(writes.flat().sort(), [...ids].sort());
});

t.test('a write that fails part way keeps only what was not written, for the next write', async (t) => {
  const writes: string[][] = [];
  let failOnce = true;
  const usage = createPatUsage({
    log: pino({ enabled: false }),
    flushAfterMs: 1e9,
    write: async (uses) => {
      if (writes.length === 1 && failOnce) {
        failOnce = false;
        throw new Error('database away');
      }
      writes.push(uses.map(([id]) => id));
    },
  });
  const ids = Array.from({ length: 300 }, (_, i) => `t${i}`);
  for (const id of ids) usage.record(id, use(1));
  await usage.flush();
  t.same(writes.map((w) => w.length), [128], 'the first statement went through, the second failed');
  t.equal(usage.expiryOf('t299'), 1001, 'an unwritten use still counts for its token');
  await usage.flush();
  t.same(writes.slice(1).map((w) => w.length), [128, 44], 'the retry writes the 172 that were not written');
  t.same(writes.flat().sort(), [...ids].sort(), 'every use written once');
});
