import t from 'tap';
import { createTtlCache } from '../../src/util/ttl-cache.ts';

t.test('answers are kept for their lifetime, within the size bound; failures are not kept', async (t) => {
  let clock = 0;
  let loads = 0;
  const cache = createTtlCache<string, string | undefined>({ ttlMs: 1000, max: 2, now: () => clock });
  const load = async (k: string) => {
    loads++;
    if (k === 'down') throw new Error('store down');
    return k === 'gone' ? undefined : k.toUpperCase();
  };
  t.equal(await cache.get('a', load), 'A');
  t.equal(await cache.get('a', load), 'A');
  t.equal(loads, 1, 'a second ask within the lifetime is answered from the cache');
  t.equal(await cache.get('gone', load), undefined);
  t.equal(await cache.get('gone', load), undefined);
  t.equal(loads, 2, 'an absent answer is kept too');

  clock = 1000;
  t.equal(await cache.get('a', load), 'A');
  t.equal(loads, 3, 'after its lifetime it is asked again');

  await cache.get('b', load); // the bound: 'gone' (oldest) is dropped
  t.equal(await cache.get('a', load), 'A');
  t.equal(loads, 4, 'a kept');
  await cache.get('gone', load);
  t.equal(loads, 5, 'the oldest went when full');

  await t.rejects(cache.get('down', load), /store down/);
  await t.rejects(cache.get('down', load), /store down/);
  t.equal(loads, 7, 'a failure is asked again next time');
});

t.test('an answer read elsewhere can be kept; it lives as long as a loaded one', async (t) => {
  let clock = 0;
  let loads = 0;
  const cache = createTtlCache<string, string | undefined>({ ttlMs: 1000, max: 2, now: () => clock });
  const load = async (k: string) => {
    loads++;
    return k.toUpperCase();
  };
  cache.set('a', 'kept');
  t.equal(await cache.get('a', load), 'kept', 'answered without a load');
  t.equal(loads, 0);
  cache.set('b', 'B');
  cache.set('c', 'C'); // the bound: 'a' (oldest) goes
  t.equal(await cache.get('a', load), 'A');
  t.equal(loads, 1, 'the oldest went when full');
  clock = 1000;
  t.equal(await cache.get('c', load), 'C');
  t.equal(loads, 2, 'after its lifetime it is asked again');
  cache.set('c', 'newer');
  t.equal(await cache.get('c', load), 'newer', 'a newer answer replaces the kept one');
});

t.test('peek: the settled answer while it is fresh, never a load', async (t) => {
  let clock = 0;
  let loads = 0;
  let release: (v: string) => void = () => {};
  const cache = createTtlCache<string, string | undefined>({ ttlMs: 1000, max: 2, now: () => clock });
  const slow = (k: string) => {
    loads++;
    return k === 'gone' ? Promise.resolve(undefined) : new Promise<string>((resolve) => (release = resolve));
  };
  t.equal(cache.peek('a'), undefined, 'nothing yet, and nothing loaded');
  t.equal(loads, 0);
  const pending = cache.get('a', slow);
  t.equal(cache.peek('a'), undefined, 'a load under way is not an answer');
  release('A');
  await pending;
  t.same(cache.peek('a'), { value: 'A' });
  await cache.get('gone', slow);
  t.same(cache.peek('gone'), { value: undefined }, 'an absent answer is an answer');
  cache.set('b', 'B');
  t.same(cache.peek('b'), { value: 'B' }, 'one kept with set');
  clock = 1000;
  t.equal(cache.peek('b'), undefined, 'not after its lifetime');
  cache.set('b', 'B2');
  cache.delete('b');
  t.equal(cache.peek('b'), undefined, 'not once forgotten');
  t.equal(loads, 2);
});
