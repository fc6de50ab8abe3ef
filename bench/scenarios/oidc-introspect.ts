import { interleave } from '../lib/compare.ts';
import { cpuOf, pick, type BenchEnv } from '../lib/env.ts';
import { cannon } from '../lib/load.ts';
import type { Endpoints } from '../lib/flow.ts';
import { ratioFigures, type Row } from '../lib/report.ts';

// RFC 7662 introspection of the provider's own opaque access tokens by a resource server, a
// random token per request; the same request to a bare provider keeping its tokens in memory.

/** Introspection load at `ep`, a random token of `tokens` per request (PAT scenarios use it too). */
export function introspect(env: BenchEnv, ep: Endpoints, tokens: string[]) {
  return () =>
    cannon({
      url: ep.introspection,
      method: 'POST',
      connections: env.sizes.connections,
      seconds: env.sizes.seconds,
      setup: (req) => ({
        ...req,
        method: 'POST',
        headers: { authorization: env.introspectAuth, 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${pick(tokens)}`,
      }),
      verify: (body) => body.includes('"active":true'),
    });
}

export async function accessTokenIntrospect(env: BenchEnv): Promise<Row> {
  const r = await interleave(env.sizes.rounds, introspect(env, env.oursEp, env.accessTokens), introspect(env, env.bareEp, env.bareAccessTokens), env.log, cpuOf(env, env.bare));
  return { id: 'at-introspect', title: 'access token introspection', unit: 'x', goal: 0.8, op: '>=', baseline: 'oidc-provider-in-memory', ...ratioFigures(r) };
}
