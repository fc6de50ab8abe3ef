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

t.test('while fetches are out, later lookups gather and go out together when one ends', async (t) => {
  const fetched: number[][] = [];
  const pending: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const c = createCoalescer<number, number>({
    maxInFlight: 2,
    fetch: (keys) => {
      fetched.push(keys);
      running++;
      most = Math.max(most, running);
      return new Promise((resolve) =>
        pending.push(() => {
          running--;
          resolve(new Map(keys.map((k) => [k, k])));
        }),
      );
    },
  });
  const first = [c.load(1)];
  await turn();
  const second = [c.load(2)];
  await turn();
  // Two fetches out: these wait, across several turns, and then go out as one.
  const later = [3, 4, 5].map((k) => c.load(k));
  await turn();
  const last = c.load(6);
  await turn();
  t.same(fetched, [[1], [2]], 'nothing more goes out while two are running');
  pending.shift()!();
  t.same(await Promise.all(first), [1]);
  await turn();
  t.same(fetched.at(-1), [3, 4, 5, 6], 'what gathered went out in one fetch');
  while (pending.length) pending.shift()!();
  t.same(await Promise.all([...second, ...later, last]), [2, 3, 4, 5, 6]);
  t.equal(most, 2, 'never more than maxInFlight at once');
});

t.test('a fetch that throws at once fails its callers and frees its slot', async (t) => {
  let calls = 0;
  const c = createCoalescer<number, number>({
    maxInFlight: 1,
    fetch: (keys) => {
      if (calls++ === 0) throw new Error('no connection');
      return Promise.resolve(new Map(keys.map((k) => [k, k])));
    },
  });
  await t.rejects(c.load(1), { message: 'no connection' });
  t.equal(await c.load(2), 2, 'the next lookup goes out');
});
