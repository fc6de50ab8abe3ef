import type { BenchEnv } from '../lib/env.ts';
import { HELLO_ANSWER, randomPatAuthorization } from '../lib/env.ts';
import { cpuSecondsOf, type Served } from '../lib/processes.ts';
import { openLoop, type OpenLoopResult } from '../lib/open-loop.ts';
import { rawClient } from '../lib/raw-http.ts';
import type { Row } from '../lib/report.ts';
import { warmPats } from './pat.ts';

// p99 under an open model at half the maximum rate measured in this run (the PAT verification
// scenario's closed-model median): a proxy in front of busy clients, at a load with headroom.

export async function verifyLatency(env: BenchEnv, maxRate: number): Promise<{ row: Row; result: OpenLoopResult }> {
  const rate = Math.max(1, Math.round(maxRate / 2));
  // The instance idled while the first-sight instance was measured: its kept tokens as a busy proxy's are.
  await warmPats(env);
  const ours = () => ({
    path: '/a/auth/verify',
    headers: randomPatAuthorization(env),
    good: (status: number, body: string) => status === 200 && body.includes('"active":true'),
  });
  // The same schedule against the hello world: what this machine, this generator and this rate
  // cost by themselves (a floor, reported beside the result, not subtracted from it).
  // It is sent the same header, and its answer is read as ours is (pat.ts's helloWorld).
  const hello = () => ({ path: '/', headers: randomPatAuthorization(env), good: (status: number, body: string) => status === 200 && body.includes(HELLO_ANSWER) });
  const describe = (r: OpenLoopResult) =>
    `p50 ${r.p50.toFixed(2)} p90 ${r.p90.toFixed(2)} p99 ${r.p99.toFixed(2)} p99.9 ${r.p999.toFixed(2)} max ${r.max.toFixed(1)} ms, ${r.bad} bad${r.bad ? ` (${Object.entries(r.badReasons).map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}, generator late by up to ${r.maxSendLagMs.toFixed(1)} ms`;
  // A short warm-up at the same rate, then the measurement.
  const oursClient = rawClient(env.ours.url);
  const helloClient = rawClient(env.hello.url);
  // How busy each server was per request: at a fixed rate, a server whose cost per request is
  // higher here than in the closed loop (where requests arrive together and share statements and
  // wake-ups) runs nearer its limit, and queues.
  const busy = async (server: Served, run: () => Promise<OpenLoopResult>, withDb: boolean) => {
    const cpu0 = cpuSecondsOf(server.pid);
    const db0 = withDb ? await env.dbCpu() : undefined;
    const r = await run();
    const per = (s: number) => `${((s / Math.max(1, r.sent)) * 1e6).toFixed(0)} µs/op`;
    const used = cpuSecondsOf(server.pid) - cpu0;
    let line = `server CPU ${((used / env.sizes.openLoopSeconds) * 100).toFixed(0)}%, ${per(used)}`;
    if (db0) {
      let dbUsed = 0;
      for (const [pid, s] of await env.dbCpu()) dbUsed += s - (db0.get(pid) ?? 0);
      line += `, database ${per(dbUsed)}`;
    }
    return { r, line };
  };
  await openLoop({ client: oursClient, rate, seconds: 1, send: ours });
  const measured = await busy(env.ours, () => openLoop({ client: oursClient, rate, seconds: env.sizes.openLoopSeconds, send: ours }), true);
  const result = measured.r;
  env.log(`  cells-auth  ${rate}/s for ${env.sizes.openLoopSeconds} s: ${describe(result)}; ${measured.line}`);
  await openLoop({ client: helloClient, rate, seconds: 1, send: hello });
  const floorRun = await busy(env.hello, () => openLoop({ client: helloClient, rate, seconds: env.sizes.openLoopSeconds, send: hello }), false);
  const floor = floorRun.r;
  oursClient.close();
  helloClient.close();
  env.log(`  hello world ${rate}/s for ${env.sizes.openLoopSeconds} s: ${describe(floor)}; ${floorRun.line}`);
  return {
    row: {
      id: 'p99-half-max',
      title: `p99 of /a/auth/verify at ${rate}/s (half the max), open model`,
      measured: result.p99,
      unit: 'ms',
      goal: 10,
      op: '<=',
      baseline: '-',
      ours: rate,
      note: `at ${rate}/s: p50 ${result.p50.toFixed(2)}, p99.9 ${result.p999.toFixed(1)} ms; the Fastify hello world on the same schedule: p99 ${floor.p99.toFixed(2)} ms`,
    },
    result,
  };
}
