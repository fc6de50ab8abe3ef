import type { BenchEnv } from '../lib/env.ts';
import { pick } from '../lib/env.ts';
import { openLoop, type OpenLoopResult } from '../lib/open-loop.ts';
import type { Row } from '../lib/report.ts';

// p99 under an open model at half the maximum rate measured in this run (the PAT verification
// scenario's closed-model median): a proxy in front of busy clients, at a load with headroom.

export async function verifyLatency(env: BenchEnv, maxRate: number): Promise<{ row: Row; result: OpenLoopResult }> {
  const rate = Math.max(1, Math.round(maxRate / 2));
  const send = () => ({
    method: 'GET',
    url: `${env.ours.url}/a/auth/verify`,
    headers: { authorization: `Bearer ${pick(env.pats)}` },
    good: (status: number, body: string) => status === 200 && body.includes('"active":true'),
  });
  // A short warm-up at the same rate, then the measurement.
  await openLoop({ agent: env.agent, rate, seconds: 1, send });
  const result = await openLoop({ agent: env.agent, rate, seconds: env.sizes.openLoopSeconds, send });
  env.log(`  ${rate}/s for ${env.sizes.openLoopSeconds} s: p50 ${result.p50.toFixed(2)} p90 ${result.p90.toFixed(2)} p99 ${result.p99.toFixed(2)} p99.9 ${result.p999.toFixed(2)} max ${result.max.toFixed(1)} ms, ${result.bad} bad, send lag ≤ ${result.maxSendLagMs.toFixed(1)} ms`);
  return {
    row: { id: 'p99-half-max', title: `p99 of /a/auth/verify at ${rate}/s (half the max), open model`, measured: result.p99, unit: 'ms', goal: 10, op: '<=', baseline: '-', ours: rate },
    result,
  };
}
