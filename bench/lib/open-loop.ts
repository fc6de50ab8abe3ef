import * as hdr from 'hdr-histogram-js';
import type { rawClient } from './raw-http.ts';

// Open-model load: requests are sent on a fixed schedule, whether or not earlier ones have
// answered, the way independent users arrive. Latency is measured from when each request was
// *meant* to be sent, not from when the generator got round to it: a stalled server then shows
// up as the full wait every request queued behind it had (no coordinated omission).

export interface OpenLoopResult {
  rate: number;
  sent: number;
  bad: number;
  /** What the bad replies were: an HTTP status, or the client's error message, with a count each. */
  badReasons: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** How late the generator itself sent, worst case (ms): if large, the generator was the bottleneck. */
  maxSendLagMs: number;
}

export async function openLoop(opts: {
  client: ReturnType<typeof rawClient>;
  rate: number;
  seconds: number;
  /** The GET to send as the n-th request; `good` says whether its reply is. */
  send: (n: number) => { path: string; headers: Record<string, string>; good: (status: number, body: string) => boolean };
}): Promise<OpenLoopResult> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 }); // µs
  const total = Math.round(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const start = performance.now();
  let bad = 0;
  const badReasons: Record<string, number> = {};
  let maxSendLagMs = 0;
  let sent = 0;
  let pending = 0;
  let allSent = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const settle = (intended: number, good: boolean, reason: string) => {
    if (!good) {
      bad++;
      badReasons[reason] = (badReasons[reason] ?? 0) + 1;
    }
    histogram.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
    if (--pending === 0 && allSent) finish();
  };
  const tick = () => {
    const now = performance.now();
    // Everything whose intended time has come goes out now, each timed from its intended time.
    while (sent < total && start + sent * interval <= now) {
      const intended = start + sent * interval;
      maxSendLagMs = Math.max(maxSendLagMs, now - intended);
      const r = opts.send(sent);
      pending++;
      opts.client.get(r.path, r.headers).then(
        (res) => settle(intended, r.good(res.status, res.body), `HTTP ${res.status}`),
        (err: Error) => settle(intended, false, err.message),
      );
      sent++;
    }
    if (sent < total) {
      // Sleep until the next intended time (timers are ~1 ms coarse; that lag is counted in the
      // latency, so it can only make the result worse, never better).
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    } else {
      allSent = true;
      if (pending === 0) finish();
    }
  };
  tick();
  await finished;
  const ms = (q: number) => histogram.getValueAtPercentile(q) / 1000;
  const result = { rate: opts.rate, sent, bad, badReasons, p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: histogram.maxValue / 1000, maxSendLagMs };
  histogram.destroy();
  return result;
}
