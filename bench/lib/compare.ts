import type { Throughput } from './load.ts';

// A scenario and its baseline measured in the same run, interleaved (A, B, A, B, …), so that
// whatever else the machine is doing at the time weighs on both alike. The ratio is the median of
// the per-round ratios: each round pairs two measurements taken seconds apart.

export interface Paired {
  ours: Throughput[];
  base: Throughput[];
  /** median(ours.rate / base.rate) over the rounds. */
  ratio: number;
  /** ours.rate / base.rate of each round, in order: how far the machine moved the ratio meanwhile. */
  ratios: number[];
  oursMedian: number;
  baseMedian: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * `cpuOf` reads a server's CPU seconds: each measurement then also says how busy that server was
 * (a side far below 100% is waiting on something — its database, its clients — not computing).
 */
export async function interleave(
  rounds: number,
  ours: () => Promise<Throughput>,
  base: () => Promise<Throughput>,
  log: (line: string) => void,
  cpuOf?: { ours: () => number; base: () => number; db?: () => Promise<Map<number, number>> },
): Promise<Paired> {
  const o: Throughput[] = [];
  const b: Throughput[] = [];
  // One unrecorded run of each first: JIT compilation, pools and caches warm up on both sides.
  await ours();
  await base();
  for (let i = 0; i < rounds; i++) {
    // Alternate who goes first, so neither side always runs on a machine the other just warmed.
    const first = i % 2 === 0 ? 'ours' : 'base';
    for (const side of first === 'ours' ? ['ours', 'base'] : ['base', 'ours']) {
      const cpu = side === 'ours' ? cpuOf?.ours : cpuOf?.base;
      const cpu0 = cpu?.() ?? 0;
      const db0 = side === 'ours' ? await cpuOf?.db?.() : undefined;
      const gen0 = process.cpuUsage();
      const t = side === 'ours' ? await ours() : await base();
      const gen = process.cpuUsage(gen0);
      (side === 'ours' ? o : b).push(t);
      const used = cpu ? cpu() - cpu0 : 0;
      let busy = cpu ? `, server CPU ${((used / t.seconds) * 100).toFixed(0)}%, ${((used / Math.max(1, t.good)) * 1e6).toFixed(0)} µs/op` : '';
      if (db0) {
        // Backends that appeared during the round count whole; one that ended is not counted.
        let dbUsed = 0;
        for (const [pid, s] of (await cpuOf!.db!())) dbUsed += s - (db0.get(pid) ?? 0);
        busy += `, database ${((dbUsed / Math.max(1, t.good)) * 1e6).toFixed(0)} µs/op`;
      }
      // The load generator runs in this process: near 100% of a core, it is what limits the rate.
      busy += `, load generator CPU ${(((gen.user + gen.system) / 1e6 / t.seconds) * 100).toFixed(0)}%`;
      log(`  round ${i + 1} ${side.padEnd(4)} ${t.rate.toFixed(1)}/s (${t.good} good, ${t.bad} bad${busy})`);
    }
  }
  for (const t of [...o, ...b]) {
    if (t.bad > 0 && t.bad > t.good * 0.001) throw new Error(`too many failed requests (${t.bad} of ${t.good + t.bad}): the setup is broken`);
  }
  const ratios = o.map((t, i) => t.rate / b[i]!.rate);
  return {
    ours: o,
    base: b,
    ratio: median(ratios),
    ratios,
    oursMedian: median(o.map((t) => t.rate)),
    baseMedian: median(b.map((t) => t.rate)),
  };
}
