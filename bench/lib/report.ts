// What the bench prints: a table for people and one `BENCH {json}` line for machines (CI, the
// README chart).

import type { Paired } from './compare.ts';

export interface Row {
  id: string;
  title: string;
  /** The measured figure: a ratio to the baseline, or an absolute value in `unit`. */
  measured: number;
  unit: 'x' | 'ms' | 'MB' | 'MB/run';
  goal: number;
  /** `>=`: at least the goal; `<=`: at most. */
  op: '>=' | '<=';
  baseline: string;
  /** The raw figures behind a ratio (per second), when there are some. */
  ours?: number;
  base?: number;
  /** A ratio's value in each round (its median is `measured`). */
  rounds?: number[];
  note?: string;
}

/** A ratio row's figures from a paired measurement: the median, the medians behind it, every round. */
export const ratioFigures = (r: Paired) => ({ measured: r.ratio, ours: r.oursMedian, base: r.baseMedian, rounds: r.ratios });

export const passes = (r: Row) => (r.op === '>=' ? r.measured >= r.goal : r.measured <= r.goal);

function fmt(n: number | undefined, digits = 2): string {
  if (n === undefined) return '';
  return n >= 100 ? n.toFixed(0) : n.toFixed(digits);
}

export function table(rows: Row[]): string {
  const head = ['scenario', 'ours', 'baseline', 'measured', 'rounds', 'goal', '', 'baseline name'];
  const body = rows.map((r) => [
    r.id,
    fmt(r.ours, 1),
    fmt(r.base, 1),
    `${fmt(r.measured)}${r.unit === 'x' ? '×' : ` ${r.unit}`}`,
    // The spread of the per-round ratios: a goal met or missed within it is not settled by one run.
    r.rounds?.length ? `${fmt(Math.min(...r.rounds))}–${fmt(Math.max(...r.rounds))}` : '',
    `${r.op} ${fmt(r.goal)}${r.unit === 'x' ? '×' : ` ${r.unit}`}`,
    passes(r) ? 'ok' : 'MISS',
    r.baseline,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function benchJson(rows: Row[], meta: Record<string, unknown>): string {
  const scenarios = Object.fromEntries(
    rows.map((r) => [r.id, { title: r.title, measured: Number(r.measured.toFixed(3)), unit: r.unit, goal: r.goal, op: r.op, baseline: r.baseline, pass: passes(r), ours: r.ours, base: r.base, rounds: r.rounds?.map((x) => Number(x.toFixed(3))), note: r.note }]),
  );
  return JSON.stringify({ meta, scenarios });
}
