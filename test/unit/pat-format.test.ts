import t from 'tap';
import fc from 'fast-check';
import { generatePat, isWellFormedPat, looksLikePat, PAT_LENGTH, PAT_SHAPE, patDigest } from '../../src/pat/token-format.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

t.test('a generated token has the documented shape and a good checksum', async (t) => {
  const tokens = Array.from({ length: 200 }, generatePat);
  for (const token of tokens) {
    t.ok(PAT_SHAPE.test(token), `${token.slice(0, 8)}… matches the scanner regex`);
    t.equal(token.length, PAT_LENGTH);
    t.ok(isWellFormedPat(token), 'checksum verifies');
    t.ok(looksLikePat(token));
  }
  t.equal(new Set(tokens).size, tokens.length, 'no two alike');
  // 43 random base62 characters: every character of the alphabet shows up across 200 tokens.
  const seen = new Set(tokens.flatMap((tok) => [...tok.slice(4, 47)]));
  t.equal(seen.size, 62, 'the whole alphabet is used');
});

t.test('the digest is SHA-256 hex and differs per token', async (t) => {
  const a = generatePat();
  t.match(patDigest(a), /^[0-9a-f]{64}$/);
  t.equal(patDigest(a), patDigest(a));
  t.not(patDigest(a), patDigest(generatePat()));
});

t.test('every one-character change is refused by the checksum (property)', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: PAT_LENGTH - 1 }), fc.constantFrom(...BASE62), (pos, ch) => {
      const token = generatePat();
      fc.pre(token[pos] !== ch && pos >= 4);
      const changed = token.slice(0, pos) + ch + token.slice(pos + 1);
      return !isWellFormedPat(changed);
    }),
    { numRuns: 2000 },
  );
});

t.test('swapping two neighbouring characters is refused (property)', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 4, max: PAT_LENGTH - 2 }), (pos) => {
      const token = generatePat();
      fc.pre(token[pos] !== token[pos + 1]);
      const swapped = token.slice(0, pos) + token[pos + 1] + token[pos] + token.slice(pos + 2);
      return !isWellFormedPat(swapped);
    }),
    { numRuns: 1000 },
  );
});

t.test('random strings of the right shape almost never pass (property)', async (t) => {
  let passed = 0;
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...BASE62), minLength: 49, maxLength: 49 }), (body) => {
      if (isWellFormedPat(`cap_${body}`)) passed++;
      return true;
    }),
    { numRuns: 5000 },
  );
  // The chance of one pass in 5000 is about 5000 / 2^32.
  t.equal(passed, 0);
});

t.test('anything else is refused', async (t) => {
  const good = generatePat();
  for (const bad of ['', 'cap_', good.slice(0, -1), `${good}x`, good.replace('cap_', 'CAP_'), good.replace('cap_', 'pat_'), ` ${good}`, `${good}\n`]) {
    t.notOk(isWellFormedPat(bad), JSON.stringify(bad.slice(0, 12)));
  }
  fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => !isWellFormedPat(s) || s === good));
});
