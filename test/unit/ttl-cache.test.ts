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
