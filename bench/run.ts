import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import argon2 from 'argon2';
import { createArgon2Hasher } from '../src/accounts/password.ts';
import { loadConfig } from '../src/config/load.ts';
import { createBenchDatabase, type BenchDatabase } from './lib/database.ts';
import { sizesFor, type BenchEnv } from './lib/env.ts';
import { discover, signIn } from './lib/flow.ts';
import { agent } from './lib/http.ts';
import { closedLoop } from './lib/load.ts';
import { startBaseline, startCellsAuth, type Served } from './lib/processes.ts';
import { benchJson, table, type Row } from './lib/report.ts';
import { analyze, BENCH_USER_ID, cloneOidcTokens, seedPats, seedUsers } from './lib/seed.ts';
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
const BENCH_CONFIG = fileURLToPath(new URL('./cells-auth.bench.yaml', import.meta.url));
const INTROSPECT_SECRET = 'bench-resource-server-secret-0123456789';

const started = performance.now();
const stamp = () => `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s]`;
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
const cleanup = () => (cleaning ??= (async () => {
  for (const fn of cleanups.reverse()) await fn().catch((err) => log(`cleanup: ${err}`));
})());
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function setup(): Promise<BenchEnv> {
  log(`${stamp()} database: migrating and seeding ${sizes.patRows.toLocaleString()} PAT rows, ${sizes.tokenRows.toLocaleString()} token rows`);
  const bench: BenchDatabase = await createBenchDatabase();
  cleanups.push(() => bench.drop());

  // The cheap hash: argon2id at its smallest cost, stored as the user's hash. The server is not
  // told anything: argon2 hashes carry their own parameters, so it verifies this one cheaply with
  // its production code and production settings. The production one: the configured defaults.
  const cheap = { login: 'bench', password: 'bench-password-cheap' };
  const argon = { login: 'bench-argon2', password: 'bench-password-argon2' };
  const cheapHash = await argon2.hash(cheap.password, { type: argon2.argon2id, memoryCost: 8, timeCost: 1, parallelism: 1 });
  const productionHash = await createArgon2Hasher(loadConfig({ env: {} }).password).hash(argon.password);
  await seedUsers(bench.pool, [
    { id: BENCH_USER_ID, login: cheap.login, hash: cheapHash },
    { id: '00000000-0000-4000-8000-0000000a2a2a', login: argon.login, hash: productionHash },
  ]);
  const pats = await seedPats(bench.pool, { presented: sizes.patsPresented, total: sizes.patRows });
  // The resource server that introspects, registered as an operator does (the clients table).
  await bench.pool.query('insert into clients (client_id, metadata, first_party, introspect) values ($1, $2, false, true)', [
    'files-api',
    { client_id: 'files-api', client_secret: INTROSPECT_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: [], response_types: [], redirect_uris: [], introspect: true },
  ]);
  log(`${stamp()} seeded; starting cells-auth and the baselines`);

  const servers: Served[] = [];
  cleanups.push(async () => void (await Promise.all(servers.map((s) => s.stop()))));
  const ours = await startCellsAuth({ databaseUrl: bench.url, env: { CELLS_AUTH_CONFIG: BENCH_CONFIG } });
  servers.push(ours);
  const hello = await startBaseline('hello.ts');
  servers.push(hello);
  const bare = await startBaseline('oidc-bare.ts', { BENCH_LOGIN: cheap.login, BENCH_HASH: cheapHash, BENCH_INTROSPECT_SECRET: INTROSPECT_SECRET, BENCH_AT_TTL: '3600' });
  servers.push(bare);

  const ag = agent();
  const oursEp = await discover(ag, `${ours.url}/oidc`);
  const bareEp = await discover(ag, bare.url);
  // Real sign-ins make the rows the copies are made from (cells-auth) and the tokens to present
  // (the bare provider keeps them in memory, so they cannot be copied in).
  await signIn(ag, oursEp, cheap.login, cheap.password);
  const accessTokens = await cloneOidcTokens(bench.pool, { presented: sizes.accessTokensPresented, total: sizes.tokenRows });
  // The bare provider's memory adapter is an LRU of 1000 entries (a sign-in leaves about eight):
  // only the most recent ~100 sign-ins' tokens are still there to introspect.
  const bareAccessTokens: string[] = [];
  for (let i = 0; i < 10; i++) {
    await Promise.all(Array.from({ length: 10 }, async () => void bareAccessTokens.push((await signIn(ag, bareEp, cheap.login, cheap.password)).access_token)));
  }
  log(`${stamp()} ${accessTokens.length} access tokens to present (cells-auth), ${bareAccessTokens.length} (bare provider); analyzing`);
  await analyze(bench.pool);

  return {
    sizes,
    ours,
    hello,
    bare,
    agent: ag,
    oursEp,
    bareEp,
    pats,
    accessTokens,
    bareAccessTokens,
    introspectAuth: `Basic ${Buffer.from(`files-api:${INTROSPECT_SECRET}`).toString('base64')}`,
    cheap,
    argon,
    log,
  };
}

async function main(): Promise<void> {
  const env = await setup();
  const rows: Row[] = [];
  const scenario = async (name: string, fn: () => Promise<Row>) => {
    log(`${stamp()} ${name}`);
    const row = await fn();
    rows.push(row);
    return row;
  };
  const idle = await idleRss(env);
  rows.push(idleRow(idle));

  const verify = await scenario('PAT verification at /a/auth/verify vs Fastify hello world', () => patVerify(env));
  await scenario('open model at half the max verification rate', async () => (await verifyLatency(env, verify.ours!)).row);
  await scenario('PAT introspection vs Fastify hello world', () => patIntrospect(env));
  await scenario('access token introspection vs bare oidc-provider', () => accessTokenIntrospect(env));
  await scenario('refresh grant with rotation vs bare oidc-provider', () => refreshGrant(env));
  await scenario('code + PKCE flow, cheap hash, vs bare oidc-provider flow', () => codeFlow(env));
  await scenario('code + PKCE flow, production argon2id, vs Keycloak sizing', () => codeFlowArgon2(env));
  await scenario('memory: the same load, again and again', () =>
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
  writeFileSync(`${dir}latest${quick ? '-quick' : ''}.json`, `${json}\n`);
  log(`${stamp()} done`);
}

try {
  await main();
} finally {
  await cleanup();
}
