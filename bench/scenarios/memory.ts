import type { BenchEnv } from '../lib/env.ts';
import { request } from '../lib/http.ts';
import { memoryOf } from '../lib/processes.ts';
import type { Row } from '../lib/report.ts';

// Memory of one cells-auth process, read from /proc: resident set when idle after start, its
// high-water mark over the whole bench, and whether it keeps growing when the same load is run
// again and again (a leak, or a cache without a bound).

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** V8 heap in use, from the service's own Prometheus metrics. */
async function heapUsedMB(env: BenchEnv): Promise<number> {
  const res = await request(env.agent, 'GET', `${env.ours.url}/metrics`);
  const m = /^cells_auth_nodejs_heap_size_used_bytes (\S+)$/m.exec(res.body);
  return m ? Number(m[1]) / 2 ** 20 : NaN;
}

export async function idleRss(env: BenchEnv): Promise<number> {
  await sleep(2000);
  return memoryOf(env.ours.pid).rssMB;
}

export function idleRow(rssMB: number): Row {
  return { id: 'memory-idle', title: 'RSS of an idle instance after start', measured: rssMB, unit: 'MB', goal: 120, op: '<=', baseline: '-' };
}

export function peakRow(env: BenchEnv): Row {
  return { id: 'memory-peak', title: 'peak RSS (VmHWM) over the whole bench', measured: memoryOf(env.ours.pid).hwmMB, unit: 'MB', goal: 250, op: '<=', baseline: '-' };
}

/**
 * Runs the same mixed load `runs` times and reads RSS and heap after each, once the process had a
 * moment to settle. The first run fills whatever is meant to fill (bounded caches, JIT code, pools);
 * growth is how far later runs went above it, per run.
 */
export async function growth(env: BenchEnv, workload: () => Promise<void>): Promise<Row> {
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < env.sizes.memoryRuns; i++) {
    await workload();
    await sleep(1500);
    rss.push(memoryOf(env.ours.pid).rssMB);
    heap.push(await heapUsedMB(env));
    env.log(`  run ${i + 1}: RSS ${rss.at(-1)!.toFixed(1)} MB, heap used ${heap.at(-1)!.toFixed(1)} MB`);
  }
  // Least-squares slope of RSS over the runs after the first.
  const ys = rss.slice(1);
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const slope = n > 1 ? ys.reduce((a, y, x) => a + (x - mx) * (y - my), 0) / ys.reduce((a, _y, x) => a + (x - mx) ** 2, 0) : 0;
  return {
    id: 'memory-growth',
    title: 'RSS growth per run of the same load (after the first)',
    measured: slope,
    unit: 'MB/run',
    goal: 2,
    op: '<=',
    baseline: '-',
    note: `RSS after each run: ${rss.map((v) => v.toFixed(0)).join(', ')} MB; heap used: ${heap.map((v) => v.toFixed(0)).join(', ')} MB`,
  };
}
