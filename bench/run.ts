import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sizesFor } from './lib/env.ts';
import { signIn } from './lib/flow.ts';
import { closedLoop } from './lib/load.ts';
import { benchJson, table, type Row } from './lib/report.ts';
import { memoryOf } from './lib/processes.ts';
import { setup } from './lib/setup.ts';
import { codeFlow, codeFlowArgon2 } from './scenarios/flow.ts';
import { verifyLatency } from './scenarios/latency.ts';
import { growth, idleRow, idleRss, peakRow } from './scenarios/memory.ts';
import { accessTokenIntrospect } from './scenarios/oidc-introspect.ts';
import { patIntrospect, patVerify, verifyLoad } from './scenarios/pat.ts';
import { refreshGrant } from './scenarios/refresh.ts';

// `npm run bench [-- --quick]`: every scenario next to its baseline, in the same run, interleaved.
// Progress goes to stderr; the table and the `BENCH {json}` line to stdout.

const quick = process.argv.includes('--quick');
const sizes = sizesFor(quick);
const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();
const stamp = () => `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s]`;
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
const cleanup = () => (cleaning ??= (async () => {
  for (const fn of cleanups.reverse()) await fn().catch((err) => log(`cleanup: ${err}`));
})());
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function main(): Promise<void> {
  // `--profile`: cells-auth and the baselines write V8 CPU profiles into bench/results/ when they stop.
  const profile = process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', fileURLToPath(new URL('./results/', import.meta.url))] : [];
  const env = await setup(sizes, cleanups, (line) => log(`${stamp()} ${line}`), profile);
  const rows: Row[] = [];
  // `--only id,id` runs a subset (while working on one hot path); the full list is the default.
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  const scenario = async (id: string, name: string, fn: () => Promise<Row>) => {
    if (only && !only.includes(id)) return undefined;
    log(`${stamp()} ${name}`);
    const row = await fn();
    rows.push(row);
    // Which scenario raised the peak (the memory-peak row is over the whole run).
    const mem = memoryOf(env.ours.pid);
    log(`${stamp()}   cells-auth RSS ${mem.rssMB.toFixed(0)} MB, peak so far ${mem.hwmMB.toFixed(0)} MB`);
    return row;
  };
  rows.push(idleRow(await idleRss(env)));

  const verify = await scenario('pat-verify', 'PAT verification at /a/auth/verify vs Fastify hello world', () => patVerify(env));
  if (verify) await scenario('p99-half-max', 'open model at half the max verification rate', async () => (await verifyLatency(env, verify.ours!)).row);
  await scenario('pat-introspect', 'PAT introspection vs Fastify hello world', () => patIntrospect(env));
  await scenario('at-introspect', 'access token introspection vs bare oidc-provider', () => accessTokenIntrospect(env));
  await scenario('refresh', 'refresh grant with rotation vs bare oidc-provider', () => refreshGrant(env));
  await scenario('code-flow', 'code + PKCE flow, cheap hash, vs bare oidc-provider flow', () => codeFlow(env));
  await scenario('code-flow-argon2', 'code + PKCE flow, production argon2id, vs Keycloak sizing', () => codeFlowArgon2(env));
  await scenario('memory-growth', 'memory: the same load, again and again', () =>
    growth(env, async () => {
      await verifyLoad(env, env.sizes.seconds)();
      await closedLoop(env.sizes.flowConcurrency, env.sizes.seconds, () => signIn(env.agent, env.oursEp, env.cheap.login, env.cheap.password).then(() => {}));
    }),
  );
  rows.push(peakRow(env));

  const meta = {
    quick,
    rounds: sizes.rounds,
    secondsPerMeasurement: sizes.seconds,
    patRows: sizes.patRows,
    tokenRows: sizes.tokenRows,
    cpus: availableParallelism(),
    node: process.version,
    at: new Date().toISOString(),
  };
  process.stdout.write(`\n${table(rows)}\n\n`);
  for (const r of rows.filter((r) => r.note)) process.stdout.write(`${r.id}: ${r.note}\n`);
  const json = benchJson(rows, meta);
  process.stdout.write(`BENCH ${json}\n`);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  // A subset (`--only`) is not a run to publish: it goes beside the latest whole runs, not over them
  // (`npm run bench:chart` publishes latest.json and latest-quick.json).
  writeFileSync(`${dir}latest${quick ? '-quick' : ''}${only ? '-partial' : ''}.json`, `${json}\n`);
  log(`${stamp()} done`);
}

try {
  await main();
} finally {
  await cleanup();
}
