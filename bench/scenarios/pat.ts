import type { RawRequest } from 'autocannon';
import { interleave, type Paired } from '../lib/compare.ts';
import { cpuOf, HELLO_ANSWER, randomPatAuthorization, type BenchEnv } from '../lib/env.ts';
import { cannon } from '../lib/load.ts';
import { cpuSecondsOf } from '../lib/processes.ts';
import { ratioFigures, type Row } from '../lib/report.ts';
import { introspect } from './oidc-introspect.ts';

// SPEC §6.3 on the hot path: every request a reverse proxy forwards is checked, each with a
// different PAT drawn at random from the seeded ones. A proxy in its steady state has seen its
// clients' tokens before, and cells-auth keeps the PATs it verified lately (src/pat/pat-cache.ts):
// every presented token is checked once before measuring. The default cache (100,000) holds all of
// the full run's 100,000 and of the quick run's 20,000; the row says which share of the checks it
// answered (a token is read again five minutes after it was kept). What a token seen for the first time costs is measured too, on a second instance
// that keeps none, and reported beside the row.

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

let warmed: Promise<void> | undefined;

/** Every presented PAT checked once by the measured instance (once per run). */
export function warmPats(env: BenchEnv): Promise<void> {
  return (warmed ??= (async () => {
    const began = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: env.sizes.connections }, async () => {
        while (next < env.pats.length) {
          const res = await fetch(`${env.ours.url}/a/auth/verify`, { headers: { authorization: `Bearer ${env.pats[next++]}` } });
          if (res.status !== 200) throw new Error(`warming the PAT checks: ${res.status}`);
          await res.arrayBuffer();
        }
      }),
    );
    env.log(`  each of the ${env.pats.length.toLocaleString()} PATs checked once in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  })());
}

/** Checks answered from memory and from the database so far (the instance's /metrics). */
async function cacheCounts(env: BenchEnv): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`${env.ours.url}/metrics`)).text();
  const count = (result: string) => Number(new RegExp(`^cells_auth_pat_cache_lookups_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { hit: count('hit'), miss: count('miss') };
}

/** Runs `measure` and says which share of the PAT checks meanwhile were answered from memory. */
async function withHitRate<T>(env: BenchEnv, measure: () => Promise<T>): Promise<{ result: T; hitRate: number }> {
  const before = await cacheCounts(env);
  const result = await measure();
  const after = await cacheCounts(env);
  const hits = after.hit - before.hit;
  return { result, hitRate: hits / Math.max(1, hits + after.miss - before.miss) };
}

const fromMemory = (hitRate: number) => `${(hitRate * 100).toFixed(1)}% of checks answered from memory`;

/** Both PAT rows: at least half the hello world's rate. */
function patRow(id: string, title: string, r: Paired, note: string): Row {
  return { id, title, unit: 'x', goal: 0.5, op: '>=', baseline: 'fastify-hello-world', ...ratioFigures(r), note };
}

export async function patVerify(env: BenchEnv): Promise<Row> {
  await warmPats(env);
  const { result: r, hitRate } = await withHitRate(env, () => interleave(env.sizes.rounds, verifyLoad(env), helloWorld(env), env.log, cpuOf(env, env.hello)));
  env.log(`  first sight: an instance that keeps no PAT`);
  const cold = await interleave(env.sizes.rounds, verifyLoad(env, env.sizes.seconds, env.oursUncached.url), helloWorld(env), env.log, {
    ...cpuOf(env, env.hello),
    ours: () => cpuSecondsOf(env.oursUncached.pid),
  });
  const firstSight = `a token's first check (an instance that keeps none): ${cold.ratio.toFixed(2)}× (${cold.oursMedian.toFixed(0)}/s against ${cold.baseMedian.toFixed(0)}/s)`;
  return patRow('pat-verify', 'PAT verification, GET /a/auth/verify', r, `${fromMemory(hitRate)}; ${firstSight}`);
}

export async function patIntrospect(env: BenchEnv): Promise<Row> {
  await warmPats(env);
  const ours = introspect(env, env.oursEp, env.pats);
  const { result: r, hitRate } = await withHitRate(env, () => interleave(env.sizes.rounds, ours, helloWorld(env), env.log, cpuOf(env, env.hello)));
  return patRow('pat-introspect', 'PAT introspection, POST /oidc/oauth2/introspect', r, fromMemory(hitRate));
}
