import t from 'tap';
import fc from 'fast-check';
import { DurationError, formatDuration, MAX_DURATION_SECONDS, parseExpire, parseGoDuration, parseWindow } from '../../src/pat/duration.ts';

t.test('the documented forms', async (t) => {
  const cases: Array<[string, number]> = [
    ['30s', 30],
    ['90m', 5400],
    ['24h', 86_400],
    ['1h30m', 5400],
    ['28d', 28 * 86_400],
    ['1.5h', 5400],
    ['1d12h', 36 * 3600],
    ['1m1h', 3660], // Go accepts units in any order
    ['1h1h', 7200], // and repeated
    ['1500ms', NaN], // below: not whole seconds
  ];
  for (const [text, seconds] of cases) {
    if (Number.isNaN(seconds)) t.throws(() => parseExpire(text), DurationError, text);
    else t.equal(parseExpire(text), seconds, text);
  }
});

t.test('Go duration edge cases', async (t) => {
  t.equal(parseGoDuration('0'), 0n);
  t.equal(parseGoDuration('1.h'), 3_600_000_000_000n, 'a trailing point is allowed, as in Go');
  t.equal(parseGoDuration('.5s'), 500_000_000n);
  t.equal(parseGoDuration('1µs'), 1000n);
  t.equal(parseGoDuration('1us2ns'), 1002n);
  for (const bad of ['', 'h', '.h', '1', '10', '1x', '1H', '1h ', '1h-', '-1h', '+1h', 'h1', '1..5h', 'abc', '1 h']) {
    t.throws(() => parseGoDuration(bad), DurationError, JSON.stringify(bad));
  }
});

t.test('-e refuses zero, fractions of a second, bare numbers and the absurd', async (t) => {
  t.throws(() => parseExpire('0'), /longer than zero/);
  t.throws(() => parseExpire('0s'), /longer than zero/);
  t.throws(() => parseExpire('600'), /missing unit: write 600s/);
  t.throws(() => parseExpire('1.1s'), /whole number of seconds/);
  t.throws(() => parseExpire('3651d'), /at most 3650d/);
  t.equal(parseExpire('3650d'), MAX_DURATION_SECONDS);
  t.throws(() => parseExpire('28x'), /"28x": unknown unit "x"/, 'the message names the value and the unit');
});

t.test('-a takes integer seconds or a duration', async (t) => {
  t.equal(parseWindow('600'), 600);
  t.equal(parseWindow('10m'), 600);
  t.equal(parseWindow(600), 600);
  t.equal(parseWindow(' 90 '), 90);
  t.throws(() => parseWindow('0'), /longer than zero/);
  t.throws(() => parseWindow(0), /longer than zero/);
  t.throws(() => parseWindow(1.5), /whole number/);
  t.throws(() => parseWindow(-5), DurationError);
  t.throws(() => parseWindow('-5'), DurationError);
  t.throws(() => parseWindow('10 m'), DurationError);
});

const component = fc.record({ n: fc.integer({ min: 0, max: 500 }), unit: fc.constantFrom(['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]) });

t.test('any sum of components parses to its total (property)', async () => {
  fc.assert(
    fc.property(fc.array(component, { minLength: 1, maxLength: 6 }), (parts) => {
      const text = parts.map((p) => `${p.n}${p.unit[0]}`).join('');
      const total = parts.reduce((sum, p) => sum + p.n * p.unit[1], 0);
      if (total === 0) return (() => { try { parseExpire(text); return false; } catch (e) { return e instanceof DurationError; } })();
      return parseExpire(text) === total && parseWindow(text) === total;
    }),
  );
});

t.test('formatDuration round-trips through the parser (property)', async () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: MAX_DURATION_SECONDS }), (s) => parseExpire(formatDuration(s)) === s && parseWindow(String(s)) === s));
});

t.test('garbage never throws anything but DurationError (property)', async () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 24 }), (s) => {
      for (const parse of [parseExpire, parseWindow]) {
        try {
          const v = parse(s);
          if (!Number.isInteger(v) || v <= 0 || v > MAX_DURATION_SECONDS) return false;
        } catch (e) {
          if (!(e instanceof DurationError)) return false;
        }
      }
      return true;
    }),
  );
});
