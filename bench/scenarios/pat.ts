import type { RawRequest } from 'autocannon';
import { MAX_AGE_MS, READ_AHEAD_MS } from '../../src/pat/pat-cache.ts';
import { interleave, type Paired } from '../lib/compare.ts';
import { cpuOf, HELLO_ANSWER, randomPatAuthorization, type BenchEnv } from '../lib/env.ts';
import { request } from '../lib/http.ts';
import { cannon } from '../lib/load.ts';
import { cpuSecondsOf } from '../lib/processes.ts';
import { ratioFigures, type Row } from '../lib/report.ts';
import { introspect } from './oidc-introspect.ts';

// SPEC §6.3 on the hot path: every request a reverse proxy forwards is checked, each with a
// different PAT drawn at random from the seeded ones. A proxy in its steady state has seen its
// clients' tokens before, and cells-auth keeps the PATs it verified lately (src/pat/pat-cache.ts):
// every presented token is checked once before measuring (and again when that was long ago, see
// warmPats). The default cache (100,000) holds all of the full run's 100,000 and of the quick run's
// 20,000; the row says which share of the checks it answered. What a token seen for the first time
// costs is measured too, on a second instance that keeps none, and reported beside the row.

const ACTIVE = '"active":true';

/** Each request with a PAT drawn at random. */
const withRandomPat = (env: BenchEnv) => (req: RawRequest) => ({ ...req, headers: randomPatAuthorization(env) });

/**
 * The baseline of both PAT rows. It is sent what a proxy sends us: a random PAT in `Authorization`
 * (which it ignores), and its answer is read and checked as ours is. The load generator shares the
 * cores with the servers, and a request it builds afresh and an answer it reads cost it about twice
 * a fixed request it only counts (38 µs against 18, autocannon's own CPU): with a bare request the
 * hello world's side had more of the machine, and the ratio charged our server for the generator's
 * work (side by side in two runs, the hello world served 0.86× and 0.99× as many once sent the same).
 */
export function helloWorld(env: BenchEnv) {
  return () =>
    cannon({
      url: `${env.hello.url}/`,
      connections: env.sizes.connections,
      seconds: env.sizes.seconds,
      setup: withRandomPat(env),
      verify: (body) => body.includes(HELLO_ANSWER),
    });
}

export function verifyLoad(env: BenchEnv, seconds = env.sizes.seconds, base = env.ours.url) {
  return () =>
    cannon({
      url: `${base}/a/auth/verify`,
      connections: env.sizes.connections,
      seconds,
      setup: withRandomPat(env),
      verify: (body) => body.includes(ACTIVE),
    });
}

/**
 * A kept token is read again 2.5 to 5 minutes after it was kept (MAX_AGE_MS), ahead of its time if
 * it is checked in the last minute before (READ_AHEAD_MS); one that comes due unchecked waits for
 * its read at its next check. The bench's instance idles while the bench measures another server
 * (the first-sight instance, the baselines), and its tokens were all kept in the same warm-up: past
 * this long after it, some may have let their minute go by while it idled, and the next scenario
 * would time their reads, all at once. (Checks drawn at random also let some tokens through their
 * minute unchecked under load, idle or not: the note counts those as `due`.)
 */
const WARM_FOR_MS = MAX_AGE_MS / 2 - READ_AHEAD_MS;

let warmed: { done: Promise<void>; at: number } | undefined;

/**
 * Every presented PAT checked once by the measured instance: once per run, and again when that was
 * WARM_FOR_MS ago (the check reads the tokens that came due, and reads ahead those about to).
 */
export function warmPats(env: BenchEnv): Promise<void> {
  if (warmed && performance.now() - warmed.at < WARM_FOR_MS) return warmed.done;
  const again = warmed !== undefined;
  // `at` is set when it is done: meanwhile, another caller waits for this same warm-up.
  const entry = { at: Infinity, done: Promise.resolve() };
  entry.done = (async () => {
    const began = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: env.sizes.connections }, async () => {
        while (next < env.pats.length) {
          // The bench's lean client, not fetch: the quick run's 20,000 checks took 8.3 s instead of 11.3.
          const res = await request(env.agent, 'GET', `${env.ours.url}/a/auth/verify`, { authorization: `Bearer ${env.pats[next++]}` });
          if (res.status !== 200) throw new Error(`warming the PAT checks: ${res.status}`);
        }
      }),
    );
    entry.at = performance.now();
    env.log(`  each of the ${env.pats.length.toLocaleString()} PATs checked once${again ? ' again (the last time was too long ago)' : ''} in ${((entry.at - began) / 1000).toFixed(1)} s`);
  })();
  warmed = entry;
  return entry.done;
}

const LOOKUP_RESULTS = ['hit', 'miss', 'due', 'stale'] as const;
type LookupCounts = Record<(typeof LOOKUP_RESULTS)[number], number>;

/** The instance's PAT checks so far, by how they were answered (its /metrics; see src/metrics/metrics.ts). */
async function cacheCounts(env: BenchEnv): Promise<LookupCounts> {
  const text = await (await fetch(`${env.ours.url}/metrics`)).text();
  const count = (result: string) => Number(new RegExp(`^cells_auth_pat_cache_lookups_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return Object.fromEntries(LOOKUP_RESULTS.map((r) => [r, count(r)])) as LookupCounts;
}

/**
 * Runs `measure` and says which share of the PAT checks meanwhile were answered from memory, and
 * why the others were not: not kept, due to be read again, or the change feed not read in time.
 */
async function withHitRate<T>(env: BenchEnv, measure: () => Promise<T>): Promise<{ result: T; fromMemory: string }> {
  const before = await cacheCounts(env);
  const result = await measure();
  const after = await cacheCounts(env);
  const d = Object.fromEntries(LOOKUP_RESULTS.map((r) => [r, after[r] - before[r]])) as LookupCounts;
  const all = Math.max(1, d.hit + d.miss + d.due + d.stale);
  const pct = (n: number) => `${((n / all) * 100).toFixed(1)}%`;
  const misses = d.hit === all ? '' : ` (read from the database: ${pct(d.miss)} not kept, ${pct(d.due)} due to be read again, ${pct(d.stale)} with the change feed late)`;
  return { result, fromMemory: `${pct(d.hit)} of checks answered from memory${misses}` };
}

/** Both PAT rows: at least half the hello world's rate. */
function patRow(id: string, title: string, r: Paired, note: string): Row {
  return { id, title, unit: 'x', goal: 0.5, op: '>=', baseline: 'fastify-hello-world', ...ratioFigures(r), note };
}

export async function patVerify(env: BenchEnv): Promise<Row> {
  await warmPats(env);
  const { result: r, fromMemory } = await withHitRate(env, () => interleave(env.sizes.rounds, verifyLoad(env), helloWorld(env), env.log, cpuOf(env, env.hello)));
  env.log(`  first sight: an instance that keeps no PAT`);
  const cold = await interleave(env.sizes.rounds, verifyLoad(env, env.sizes.seconds, env.oursUncached.url), helloWorld(env), env.log, {
    ...cpuOf(env, env.hello),
    ours: () => cpuSecondsOf(env.oursUncached.pid),
  });
  const firstSight = `a token's first check (an instance that keeps none): ${cold.ratio.toFixed(2)}× (${cold.oursMedian.toFixed(0)}/s against ${cold.baseMedian.toFixed(0)}/s)`;
  return patRow('pat-verify', 'PAT verification, GET /a/auth/verify', r, `${fromMemory}; ${firstSight}`);
}

export async function patIntrospect(env: BenchEnv): Promise<Row> {
  await warmPats(env);
  const ours = introspect(env, env.oursEp, env.pats);
  const { result: r, fromMemory } = await withHitRate(env, () => interleave(env.sizes.rounds, ours, helloWorld(env), env.log, cpuOf(env, env.hello)));
  return patRow('pat-introspect', 'PAT introspection, POST /oidc/oauth2/introspect', r, fromMemory);
}
