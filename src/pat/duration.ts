// SPEC §6.1 durations. `-e` takes Go's time.ParseDuration syntax plus a `d` unit (Cells'
// ParseCellsDuration: `30s`, `90m`, `24h`, `1h30m`, `28d`); `-a` also takes bare integer seconds
// (`600`, as the Cells docs show). Arithmetic is exact (BigInt nanoseconds, as Go's int64), so
// `1.5h` is 5400 s and never 5399.999….

export class DurationError extends Error {
  override name = 'DurationError';
}

const NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu; Go accepts both
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};
const NS_PER_SECOND = 1_000_000_000n;

/** The longest lifetime or window we accept: ten years. Longer is a typo, not a policy. */
export const MAX_DURATION_SECONDS = 3650 * 86_400;

// One component: digits with an optional fraction (at least one digit somewhere), then a unit.
const COMPONENT = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;

/** Go's ParseDuration (plus `d`), in nanoseconds. Signs are refused: a lifetime is positive. */
export function parseGoDuration(text: string): bigint {
  const quoted = JSON.stringify(text);
  if (text === '') throw new DurationError('empty duration');
  if (text === '0') return 0n;
  if (/^[-+]/.test(text)) throw new DurationError(`${quoted}: a duration here cannot carry a sign`);
  let rest = text;
  let total = 0n;
  while (rest !== '') {
    const m = COMPONENT.exec(rest);
    if (!m) {
      const hint = /^\d+$/.test(rest) ? ` (missing unit: write ${rest}s, ${rest}m, ${rest}h or ${rest}d)` : '';
      throw new DurationError(`${quoted} is not a duration${hint}`);
    }
    const [whole, intPart = '', fracPart = '', unit = ''] = m;
    if (intPart === '' && fracPart === '') throw new DurationError(`${quoted} is not a duration`);
    const scale = NS[unit];
    if (scale === undefined) throw new DurationError(`${quoted}: unknown unit "${unit}" (use s, m, h or d)`);
    total += BigInt(intPart || '0') * scale;
    if (fracPart) total += (BigInt(fracPart) * scale) / 10n ** BigInt(fracPart.length); // truncated, as Go
    rest = rest.slice(whole.length);
  }
  return total;
}

function toSeconds(text: string, ns: bigint): number {
  const quoted = JSON.stringify(text);
  if (ns <= 0n) throw new DurationError(`${quoted}: must be longer than zero`);
  if (ns % NS_PER_SECOND !== 0n) throw new DurationError(`${quoted}: must be a whole number of seconds`);
  const seconds = ns / NS_PER_SECOND;
  if (seconds > BigInt(MAX_DURATION_SECONDS)) throw new DurationError(`${quoted}: must be at most ${MAX_DURATION_SECONDS / 86_400}d`);
  return Number(seconds);
}

/** `-e` / `expire`: a Go duration (plus `d`), in whole seconds. */
export function parseExpire(text: string): number {
  return toSeconds(text, parseGoDuration(text.trim()));
}

/** `-a` / `auto`: integer seconds (`600`) or a Go duration (`10m`), in whole seconds. */
export function parseWindow(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new DurationError(`${value}: must be a whole number of seconds`);
    return toSeconds(String(value), BigInt(value) * NS_PER_SECOND);
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return toSeconds(text, BigInt(text) * NS_PER_SECOND);
  return toSeconds(text, parseGoDuration(text));
}

/** Seconds as the shortest Go-style duration with days: 5400 → `1h30m`, 2419200 → `28d`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
