import { fileURLToPath } from 'node:url';
import { hash as argon2Hash } from '@node-rs/argon2';
import { createArgon2Hasher } from '../../src/accounts/password.ts';
import { digestClientSecret } from '../../src/clients/client-secret.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createBenchDatabase, type BenchDatabase } from './database.ts';
import type { BenchEnv, Sizes } from './env.ts';
import { discover, signIn } from './flow.ts';
import { agent } from './http.ts';
import { cpuSecondsOf, startBaseline, startCellsAuth, type Served } from './processes.ts';
import { analyze, BENCH_USER_ID, cloneOidcTokens, seedPats, seedUsers } from './seed.ts';

// Builds what every scenario runs against: a seeded database, cells-auth on it, the two baseline
// servers, and the tokens to present. `cleanups` collects how to undo each step.

const BENCH_CONFIG = fileURLToPath(new URL('../cells-auth.bench.yaml', import.meta.url));
const INTROSPECT_SECRET = 'bench-resource-server-secret-0123456789';


export async function setup(sizes: Sizes, cleanups: (() => Promise<void>)[], log: (line: string) => void, serverNodeArgs: string[] = []): Promise<BenchEnv> {
  const { quick } = sizes;
  log(`database: migrating and seeding ${sizes.patRows.toLocaleString()} PAT rows, ${sizes.tokenRows.toLocaleString()} token rows`);
  const bench: BenchDatabase = await createBenchDatabase();
  cleanups.push(() => bench.drop());

  // The cheap hash: argon2id at its smallest cost, stored as the user's hash. The server is not
  // told anything: argon2 hashes carry their own parameters, so it verifies this one cheaply with
  // its production code and production settings. The production one: the configured defaults.
  const cheap = { login: 'bench', password: 'bench-password-cheap' };
  const argon = { login: 'bench-argon2', password: 'bench-password-argon2' };
  const cheapHash = await argon2Hash(cheap.password, { memoryCost: 8, timeCost: 1, parallelism: 1 });
  const productionHash = await createArgon2Hasher(loadConfig({ env: {} }).password).hash(argon.password);
  await seedUsers(bench.pool, [
    { id: BENCH_USER_ID, login: cheap.login, hash: cheapHash },
    { id: '00000000-0000-4000-8000-0000000a2a2a', login: argon.login, hash: productionHash },
  ]);
  const pats = await seedPats(bench.pool, { presented: sizes.patsPresented, total: sizes.patRows });
  // The resource server that introspects, stored as registering it stores it: the clients table,
  // its secret as a digest only.
  await bench.pool.query('insert into clients (client_id, metadata, first_party, introspect) values ($1, $2, false, true)', [
    'files-api',
    { client_id: 'files-api', client_secret: digestClientSecret(INTROSPECT_SECRET), token_endpoint_auth_method: 'client_secret_basic', grant_types: [], response_types: [], redirect_uris: [], introspect: true },
  ]);
  log(`seeded; starting cells-auth and the baselines`);

  const servers: Served[] = [];
  cleanups.push(async () => void (await Promise.all(servers.map((s) => s.stop()))));
  const ours = await startCellsAuth({ databaseUrl: bench.url, env: { CELLS_AUTH_CONFIG: BENCH_CONFIG }, nodeArgs: serverNodeArgs });
  servers.push(ours);
  const oursUncached = await startCellsAuth({ databaseUrl: bench.url, env: { CELLS_AUTH_CONFIG: BENCH_CONFIG, CELLS_AUTH_PAT_CACHE_SIZE: '0' }, nodeArgs: serverNodeArgs });
  servers.push(oursUncached);
  const hello = await startBaseline('hello.ts', {}, serverNodeArgs);
  servers.push(hello);
  const bare = await startBaseline('oidc-bare.ts', { BENCH_LOGIN: cheap.login, BENCH_HASH: cheapHash, BENCH_INTROSPECT_SECRET: INTROSPECT_SECRET, BENCH_AT_TTL: '3600' }, serverNodeArgs);
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
  log(`${accessTokens.length} access tokens to present (cells-auth), ${bareAccessTokens.length} (bare provider); analyzing`);
  await analyze(bench.pool);

  return {
    sizes,
    ours,
    oursUncached,
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
    async dbCpu() {
      const { rows } = await bench.pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      const cpu = new Map<number, number>();
      for (const { pid } of rows) {
        try {
          cpu.set(pid, cpuSecondsOf(pid));
        } catch {
          // ended meanwhile
        }
      }
      return cpu;
    },
  };
}
