import type http from 'node:http';
import { interleave } from '../lib/compare.ts';
import { cpuOf, type BenchEnv } from '../lib/env.ts';
import { CLIENT_ID, signIn, type Endpoints } from '../lib/flow.ts';
import { FORM, form, request } from '../lib/http.ts';
import { closedLoop } from '../lib/load.ts';
import { ratioFigures, type Row } from '../lib/report.ts';

// The refresh grant with rotation (SPEC §2): each of N clients keeps one token family and
// redeems its latest refresh token for the next, as a long-running CellsSync does.

function chains(env: BenchEnv, ep: Endpoints, ag: http.Agent) {
  const latest: string[] = [];
  const refresh = async (worker: number) => {
    const rt = latest[worker] ?? (await signIn(ag, ep, env.cheap.login, env.cheap.password)).refresh_token;
    delete latest[worker]; // a failed refresh leaves the chain to be started again by a sign-in
    const res = await request(ag, 'POST', ep.token, FORM, form({ grant_type: 'refresh_token', refresh_token: rt, client_id: CLIENT_ID }));
    if (res.status !== 200) throw new Error(`refresh: ${res.status} ${res.body.slice(0, 200)}`);
    latest[worker] = (JSON.parse(res.body) as { refresh_token: string }).refresh_token;
  };
  return {
    /** Starts every chain with a sign-in (not measured). */
    async start() {
      await Promise.all(Array.from({ length: env.sizes.refreshChains }, async (_, i) => (latest[i] = (await signIn(ag, ep, env.cheap.login, env.cheap.password)).refresh_token)));
    },
    run: () => closedLoop(env.sizes.refreshChains, env.sizes.seconds, refresh),
  };
}

export async function refreshGrant(env: BenchEnv): Promise<Row> {
  const ours = chains(env, env.oursEp, env.agent);
  const base = chains(env, env.bareEp, env.agent);
  await ours.start();
  await base.start();
  const r = await interleave(env.sizes.rounds, ours.run, base.run, env.log, cpuOf(env, env.bare));
  return { id: 'refresh', title: 'refresh grant with rotation', unit: 'x', goal: 0.5, op: '>=', baseline: 'oidc-provider-in-memory', ...ratioFigures(r) };
}
