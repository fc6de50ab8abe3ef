import { availableParallelism } from 'node:os';
import { interleave, median } from '../lib/compare.ts';
import { cpuOf, type BenchEnv } from '../lib/env.ts';
import { signIn } from '../lib/flow.ts';
import { closedLoop, type Throughput } from '../lib/load.ts';
import { cpuSecondsOf } from '../lib/processes.ts';
import { ratioFigures, type Row } from '../lib/report.ts';

// The whole sign-in of a native client: authorize with PKCE, the login form, the code, the token
// request. With a cheap stored hash the ratio shows what the service adds around the provider;
// with the production argon2id cost it is compared with Keycloak's published sizing.

/** Keycloak's sizing guide: one vCPU per 15 password-based sign-ins per second. */
export const KEYCLOAK_SIGNINS_PER_VCPU = 15;

export async function codeFlow(env: BenchEnv): Promise<Row> {
  const run = (ep: BenchEnv['oursEp']) => () => closedLoop(env.sizes.flowConcurrency, env.sizes.seconds, () => signIn(env.agent, ep, env.cheap.login, env.cheap.password).then(() => {}));
  const r = await interleave(env.sizes.rounds, run(env.oursEp), run(env.bareEp), env.log, cpuOf(env, env.bare));
  return { id: 'code-flow', title: 'code + PKCE flow with login form, cheap stored hash', unit: 'x', goal: 0.6, op: '>=', baseline: 'oidc-provider-bare-flow', ...ratioFigures(r) };
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
