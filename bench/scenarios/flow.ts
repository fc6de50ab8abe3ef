import { availableParallelism } from 'node:os';
import { interleave, median } from '../lib/compare.ts';
import { cpuOf, type BenchEnv } from '../lib/env.ts';
import { SIGN_IN_STEPS, signIn, type Endpoints, type SignInStep, type StepRunner } from '../lib/flow.ts';
import { closedLoop, type Throughput } from '../lib/load.ts';
import { cpuSecondsOf, runNs, type Served } from '../lib/processes.ts';
import { ratioFigures, type Row } from '../lib/report.ts';

// The whole sign-in of a native client: authorize with PKCE, the login form, the code, the token
// request. With a cheap stored hash the ratio shows what the service adds around the provider;
// with the production argon2id cost it is compared with Keycloak's published sizing.

/** Keycloak's sizing guide: one vCPU per 15 password-based sign-ins per second. */
export const KEYCLOAK_SIGNINS_PER_VCPU = 15;

export async function codeFlow(env: BenchEnv): Promise<Row> {
  const run = (ep: BenchEnv['oursEp']) => () => closedLoop(env.sizes.flowConcurrency, env.sizes.seconds, () => signIn(env.agent, ep, env.cheap.login, env.cheap.password).then(() => {}));
  const r = await interleave(env.sizes.rounds, run(env.oursEp), run(env.bareEp), env.log, cpuOf(env, env.bare));
  const note = await signInSteps(env);
  return { id: 'code-flow', title: 'code + PKCE flow with login form, cheap stored hash', unit: 'x', goal: 0.6, op: '>=', baseline: 'oidc-provider-bare-flow', ...ratioFigures(r), note };
}

/** Sign-ins one at a time for the breakdown (after half as many unrecorded); the quick run stays under 3 minutes. */
const STEP_SIGN_INS = { quick: 100, full: 300 };

/**
 * Where a sign-in's CPU goes, request by request. In the row, each server's event loop is near a
 * full core, and the ratio is that of their sign-ins per second: this says which requests hold the
 * difference. Sign-ins one at a time, so that each request's cost is its own: the CPU its server's
 * main thread (JavaScript and the garbage collector) used from the request's sending to its answer,
 * exact from the scheduler's statistics; and the database's, for cells-auth (the bare provider keeps
 * everything in memory). Work a server does on its timers (cells-auth reads the PAT change feed
 * every 100 ms) counts with whichever request it fell in.
 */
export async function signInSteps(env: BenchEnv): Promise<string> {
  const count = env.sizes.quick ? STEP_SIGN_INS.quick : STEP_SIGN_INS.full;
  // The database's backends, asked again before each sign-in (outside its timing): a pool may
  // open a connection meanwhile, or close an idle one. A backend that ends during a request is left
  // out of that request (its reading drops to 0: counted, it made the full run's total negative).
  let backends: number[] = [];
  const dbNs = () => backends.map((pid) => runNs(pid));
  const dbSpent = (before: number[], after: number[]) => after.reduce((sum, ns, i) => sum + (ns === 0 ? 0 : ns - before[i]!), 0);
  const measure = async (served: Served, ep: Endpoints, withDb: boolean) => {
    const spent = new Map<SignInStep, { main: number; db: number }>(SIGN_IN_STEPS.map((s) => [s, { main: 0, db: 0 }]));
    const timed: StepRunner = async (name, request) => {
      const main0 = runNs(served.pid, served.pid);
      const db0 = withDb ? dbNs() : [];
      const answer = await request();
      const s = spent.get(name)!;
      s.main += runNs(served.pid, served.pid) - main0;
      if (withDb) s.db += dbSpent(db0, dbNs());
      return answer;
    };
    for (let i = 0; i < count / 2; i++) await signIn(env.agent, ep, env.cheap.login, env.cheap.password);
    for (let i = 0; i < count; i++) {
      if (withDb) backends = [...(await env.dbCpu()).keys()];
      await signIn(env.agent, ep, env.cheap.login, env.cheap.password, timed);
    }
    return spent;
  };
  const ours = await measure(env.ours, env.oursEp, true);
  const bare = await measure(env.bare, env.bareEp, false);
  const ms = (ns: number) => (ns / count / 1e6).toFixed(2);
  const total = (m: Map<SignInStep, { main: number; db: number }>, k: 'main' | 'db') => [...m.values()].reduce((sum, s) => sum + s[k], 0);
  for (const step of SIGN_IN_STEPS) {
    env.log(`  ${step.padEnd(17)} main thread: cells-auth ${ms(ours.get(step)!.main)} ms, bare ${ms(bare.get(step)!.main)} ms; cells-auth's database ${ms(ours.get(step)!.db)} ms`);
  }
  const steps = SIGN_IN_STEPS.map((s) => `${s} ${ms(ours.get(s)!.main)}/${ms(bare.get(s)!.main)}`).join(', ');
  return `main thread per sign-in, one at a time: cells-auth ${ms(total(ours, 'main'))} ms, bare ${ms(total(bare, 'main'))} ms (${steps}); cells-auth's database ${ms(total(ours, 'db'))} ms`;
}

/**
 * Sign-ins per second per core with the production hash. "Per core" is measured, not assumed: the
 * sign-ins completed divided by the CPU seconds the cells-auth process used meanwhile (all its
 * threads, argon2's included; the database and the load generator are not counted, as Keycloak's
 * figure sizes Keycloak alone).
 */
export async function codeFlowArgon2(env: BenchEnv): Promise<Row> {
  const perCore: number[] = [];
  const rates: Throughput[] = [];
  for (let i = 0; i < env.sizes.rounds; i++) {
    const cpu0 = cpuSecondsOf(env.ours.pid);
    const t = await closedLoop(env.sizes.flowConcurrency, env.sizes.seconds, () => signIn(env.agent, env.oursEp, env.argon.login, env.argon.password).then(() => {}));
    const cpu = cpuSecondsOf(env.ours.pid) - cpu0;
    rates.push(t);
    perCore.push(t.good / cpu);
    env.log(`  round ${i + 1} ours ${t.rate.toFixed(1)}/s, ${cpu.toFixed(1)} CPU s → ${(t.good / cpu).toFixed(1)} sign-ins per CPU second`);
  }
  const value = median(perCore);
  return {
    id: 'code-flow-argon2',
    title: 'code flow, production argon2id, sign-ins/s per core vs Keycloak',
    measured: value / KEYCLOAK_SIGNINS_PER_VCPU,
    unit: 'x',
    goal: 2,
    op: '>=',
    baseline: `keycloak-published-${KEYCLOAK_SIGNINS_PER_VCPU}-per-vcpu`,
    ours: value,
    base: KEYCLOAK_SIGNINS_PER_VCPU,
    note: `${median(rates.map((t) => t.rate)).toFixed(1)} sign-ins/s on ${availableParallelism()} shared cores`,
  };
}
