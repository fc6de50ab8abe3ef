import { interleave } from '../lib/compare.ts';
import { cpuOf, pick, type BenchEnv } from '../lib/env.ts';
import { cannon } from '../lib/load.ts';
import type { Row } from '../lib/report.ts';
import { introspect } from './oidc-introspect.ts';

// SPEC §6.3 on the hot path: every request a reverse proxy forwards is checked, each with a
// different PAT drawn from the seeded ones (so no cache can answer for a token it just saw).

const ACTIVE = '"active":true';

export function helloWorld(env: BenchEnv) {
  return () => cannon({ url: `${env.hello.url}/`, connections: env.sizes.connections, seconds: env.sizes.seconds });
}

export function verifyLoad(env: BenchEnv, seconds = env.sizes.seconds) {
  return () =>
    cannon({
      url: `${env.ours.url}/a/auth/verify`,
      connections: env.sizes.connections,
      seconds,
      setup: (req) => ({ ...req, headers: { authorization: `Bearer ${pick(env.pats)}` } }),
      verify: (body) => body.includes(ACTIVE),
    });
}

export async function patVerify(env: BenchEnv): Promise<Row> {
  const r = await interleave(env.sizes.rounds, verifyLoad(env), helloWorld(env), env.log, cpuOf(env, env.hello));
  return { id: 'pat-verify', title: 'PAT verification, GET /a/auth/verify', measured: r.ratio, unit: 'x', goal: 0.5, op: '>=', baseline: 'fastify-hello-world', ours: r.oursMedian, base: r.baseMedian };
}

export async function patIntrospect(env: BenchEnv): Promise<Row> {
  const ours = introspect(env, env.oursEp, env.pats);
  const r = await interleave(env.sizes.rounds, ours, helloWorld(env), env.log, cpuOf(env, env.hello));
  return { id: 'pat-introspect', title: 'PAT introspection, POST /oidc/oauth2/introspect', measured: r.ratio, unit: 'x', goal: 0.5, op: '>=', baseline: 'fastify-hello-world', ours: r.oursMedian, base: r.baseMedian };
}
