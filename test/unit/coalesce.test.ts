import t from 'tap';
import { createCoalescer } from '../../src/util/coalesce.ts';

const turn = () => new Promise((r) => setImmediate(r));

t.test('lookups of one turn go out as one fetch; duplicates share a key; misses are undefined', async (t) => {
  const fetched: string[][] = [];
  const c = createCoalescer<string, number>({
    fetch: async (keys) => {
      fetched.push(keys);
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.length]));
    },
  });
  const results = await Promise.all([c.load('a'), c.load('bb'), c.load('a'), c.load('missing')]);
  t.same(results, [1, 2, 1, undefined]);
  t.same(fetched, [['a', 'bb', 'missing']], 'one fetch, each key once');

  await c.load('ccc');
  t.equal(fetched.length, 2, 'a later turn: its own fetch');
});

t.test('batches are bounded; a failed fetch fails its callers only', async (t) => {
  const sizes: number[] = [];
  const c = createCoalescer<number, number>({
    maxBatch: 3,
    fetch: async (keys) => {
      sizes.push(keys.length);
      if (keys.includes(4)) throw new Error('store down');
      return new Map(keys.map((k) => [k, k * 10]));
    },
  });
  const loads = [1, 2, 3, 4, 5].map((k) => c.load(k).then((v) => v, (e: Error) => e.message));
  t.same(await Promise.all(loads), [10, 20, 30, 'store down', 'store down']);
  t.same(sizes, [3, 2], 'split at maxBatch');
  await turn();
  t.equal(await c.load(6), 60, 'the next turn works again');
});
