import autocannon, { type RawRequest } from 'autocannon';

// Closed-model load (a fixed number of clients, each sending its next request when the last one
// answered): the maximum throughput. Only good answers count: a fast 401 or `active: false` is
// not throughput, it is a broken setup, and the run says so.

export interface Throughput {
  /** Good answers per second. */
  rate: number;
  good: number;
  bad: number;
  seconds: number;
}

export interface CannonOptions {
  url: string;
  connections: number;
  seconds: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Rewrites each request (a fresh random token per request). */
  setup?: (req: RawRequest) => RawRequest;
  /** True for a good answer body. */
  verify?: (body: string) => boolean;
}

export async function cannon(o: CannonOptions): Promise<Throughput> {
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    method: o.method ?? 'GET',
    headers: o.headers ?? {},
    body: o.body,
    timeout: 10,
    requests: o.setup ? [{ method: o.method ?? 'GET', setupRequest: (req) => o.setup!(req) }] : undefined,
    verifyBody: o.verify,
  });
  const bad = result.non2xx + result.errors + result.timeouts + result.mismatches;
  // A mismatch is counted for any answer whose body fails `verify`, a 401 included: clamp, so that a
  // broken setup reads as nothing good rather than a negative rate.
  const good = Math.max(0, result['2xx'] - result.mismatches);
  return { rate: good / result.duration, good, bad, seconds: result.duration };
}

/**
 * Closed-model load for multi-request operations (a whole sign-in, a refresh chain): `concurrency`
 * workers each run `op` back to back until the time is up. Counts completed operations.
 */
export async function closedLoop(concurrency: number, seconds: number, op: (worker: number) => Promise<void>): Promise<Throughput> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let good = 0;
  let bad = 0;
  let firstError: unknown;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        try {
          await op(worker);
          good++;
        } catch (err) {
          bad++;
          firstError ??= err;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  if (bad && !good) throw firstError;
  return { rate: good / elapsed, good, bad, seconds: elapsed };
}
