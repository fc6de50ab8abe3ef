import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

// `npm run bench:chart`: publishes the latest runs in docs/, each drawn as an SVG bar chart (the
// bar is the measured figure, the tick its goal; green meets it; a whisker, where the run has one,
// spans its rounds) beside its BENCH json. Where a run goes is read from the run itself
// (`meta.quick`), not from its file's name: a full run once went out as the quick one.
// `node bench/chart.ts <results.json> <out.svg>` draws one file.

interface Scenario {
  title: string;
  measured: number;
  unit: string;
  goal: number;
  op: '>=' | '<=';
  baseline: string;
  pass: boolean;
  /** A ratio's value in each round (runs before 2026-11-24 evening have none). */
  rounds?: number[];
}

interface Run {
  meta: Record<string, unknown>;
  scenarios: Record<string, Scenario>;
}

function readRun(file: string | URL): Run {
  const text = readFileSync(file, 'utf8').trim();
  return JSON.parse(text.startsWith('BENCH ') ? text.slice(6) : text) as Run;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const unitOf = (s: Scenario) => (s.unit === 'x' ? '×' : ` ${s.unit}`);
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const W = 1010;
const LABEL = 330;
const BAR = W - LABEL - 260;
const ROW = 34;

/** The chart of one run, as SVG text. */
function chart({ meta, scenarios }: Run): string {
  const rows = Object.entries(scenarios);
  const ratios = rows.filter(([, s]) => s.unit === 'x');
  const absolutes = rows.filter(([, s]) => s.unit !== 'x');

  let y = 72;
  const parts: string[] = [];
  function section(title: string, items: [string, Scenario][], scaleOf: (s: Scenario) => number): void {
    parts.push(`<text x="16" y="${y}" class="h">${esc(title)}</text>`);
    y += 14;
    for (const [id, s] of items) {
      const scale = scaleOf(s);
      const len = Math.max(2, Math.min(BAR, (s.measured / scale) * BAR));
      const tick = LABEL + Math.min(BAR, (s.goal / scale) * BAR);
      const color = s.pass ? '#2e8540' : '#d4351c';
      const spread = s.rounds?.length ? ([Math.min(...s.rounds), Math.max(...s.rounds)] as const) : undefined;
      const baseline = s.baseline === '-' ? '' : ` vs ${s.baseline}`;
      parts.push(
        `<text x="16" y="${y + 15}" class="l">${esc(id)}</text>`,
        `<text x="16" y="${y + 28}" class="s">${esc(clip(s.title + baseline, 54))}</text>`,
        `<rect x="${LABEL}" y="${y + 6}" width="${len.toFixed(1)}" height="16" fill="${color}" rx="2"/>`,
        `<line x1="${tick.toFixed(1)}" x2="${tick.toFixed(1)}" y1="${y + 2}" y2="${y + 26}" stroke="#0b0c0c" stroke-width="2"/>`,
        `<text x="${LABEL + BAR + 10}" y="${y + 19}" class="v">${fmt(s.measured)}${esc(unitOf(s))}${spread ? ` (rounds ${fmt(spread[0])}–${fmt(spread[1])})` : ''} · goal ${s.op === '>=' ? '≥' : '≤'} ${fmt(s.goal)}</text>`,
      );
      // The rounds' spread, as a whisker across the bar: how far the machine moved the ratio meanwhile.
      if (spread) {
        const [from, to] = spread.map((v) => (LABEL + Math.min(BAR, (v / scale) * BAR)).toFixed(1));
        parts.push(
          `<line x1="${from}" x2="${to}" y1="${y + 14}" y2="${y + 14}" stroke="#0b0c0c" stroke-width="1"/>`,
          ...[from, to].map((x) => `<line x1="${x}" x2="${x}" y1="${y + 10}" y2="${y + 18}" stroke="#0b0c0c" stroke-width="1"/>`),
        );
      }
      y += ROW;
    }
    y += 18;
  }

  // Ratios share one scale (the largest of any ratio or goal); absolute figures each their own.
  const ratioScale = Math.max(1, ...ratios.map(([, s]) => Math.max(s.measured, s.goal))) * 1.05;
  section('Throughput, as a multiple of the baseline measured in the same run (higher is better)', ratios, () => ratioScale);
  section('Latency and memory (lower is better; the tick is the goal)', absolutes, (s) => Math.max(s.measured, s.goal) * 1.15);

  const subtitle = `${meta.quick ? 'npm run bench -- --quick' : 'npm run bench'} · ${Number(meta.patRows).toLocaleString('en')} PAT rows, ${Number(meta.tokenRows).toLocaleString('en')} token rows · ${meta.cpus} shared cores · Node ${meta.node} · ${String(meta.at).slice(0, 10)}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="system-ui, sans-serif">
<style>.t{font-size:17px;font-weight:600}.h{font-size:13px;font-weight:600;fill:#505a5f}.l{font-size:13px;font-weight:600}.s{font-size:11px;fill:#505a5f}.v{font-size:12px}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="24" class="t">cells-auth benchmark</text>
<text x="16" y="42" class="s">${esc(subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}

const [input, output] = process.argv.slice(2);
if (input) {
  writeFileSync(output ?? 'bench.svg', chart(readRun(input)));
  process.stdout.write(`wrote ${output ?? 'bench.svg'}\n`);
} else {
  const at = (path: string) => new URL(path, import.meta.url);
  let published = 0;
  for (const name of ['latest-quick.json', 'latest.json']) {
    const file = at(`./results/${name}`);
    if (!existsSync(file)) continue;
    const run = readRun(file);
    const [svg, json] = run.meta.quick ? ['bench.svg', 'bench-quick.json'] : ['bench-full.svg', 'bench-full.json'];
    writeFileSync(at(`../docs/${svg}`), chart(run));
    copyFileSync(file, at(`../docs/${json}`));
    process.stdout.write(`${run.meta.quick ? 'quick' : 'full'} run of ${String(run.meta.at)} (bench/results/${name}): wrote docs/${svg} and docs/${json}\n`);
    published++;
  }
  if (published === 0) {
    process.stderr.write('bench:chart: no results in bench/results/: run `npm run bench` first\n');
    process.exitCode = 1;
  }
}
