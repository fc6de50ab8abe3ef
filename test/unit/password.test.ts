import t from 'tap';
import { createArgon2Hasher } from '../../src/accounts/password.ts';

// The smallest argon2id cost: this tests the bound, not the hash.
const cheap = { memoryKiB: 8, iterations: 1, parallelism: 1 };

t.test('no more hashes run at once than the bound; all finish; verify works', async (t) => {
  const hasher = createArgon2Hasher(cheap, { concurrency: 2 });
  const hashes = await Promise.all(Array.from({ length: 6 }, (_, i) => hasher.hash(`password-${i}`)));
  t.equal(new Set(hashes).size, 6);
  const checks = await Promise.all(hashes.map((h, i) => hasher.verify(h, `password-${i}`)));
  t.ok(checks.every(Boolean), 'each verifies');
  t.equal(await hasher.verify(hashes[0]!, 'wrong'), false);
  t.equal(await hasher.verify('not a hash', 'x'), false, 'a malformed hash is a failed login');
});

t.test('bounded: never more than the limit at once, in order, failures release their slot', async (t) => {
  const { bounded } = await import('../../src/util/bounded.ts');
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const work = bounded(2, async (i: number) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    order.push(i);
    if (i === 1) throw new Error('boom');
    return i;
  });
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => work(i)));
  t.equal(peak, 2, 'two at a time');
  t.same(order.slice(2), [2, 3, 4], 'waiters run in arrival order');
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
});

t.test('new hashes are argon2id with the configured cost; hashes made by another argon2 library verify', async (t) => {
  const hasher = createArgon2Hasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
  const hash = await hasher.hash('correct horse');
  t.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'the PHC string says argon2id and the cost');
  // Made by the reference C implementation (the `argon2` package this service used before): stored
  // hashes keep working across the change of library.
  const reference = '$argon2id$v=19$m=19456,t=2,p=1$sKhlWSSQzAQdpvQOOE9HSQ$zLLRMDcXcOfbk5/HHqUiabD5wgCX1lkX7ydvFnK/NLU';
  t.equal(await hasher.verify(reference, 'correct horse battery'), true, 'its password verifies');
  t.equal(await hasher.verify(reference, 'correct horse batterY'), false, 'another does not');
});
