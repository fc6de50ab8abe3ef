import { hash as argon2Hash } from '@node-rs/argon2';
import { createBenchDatabase } from './lib/database.ts';
import { discover, signIn } from './lib/flow.ts';
import { agent } from './lib/http.ts';
import { memoryOf, startCellsAuth } from './lib/processes.ts';
import { BENCH_USER_ID, seedUsers } from './lib/seed.ts';

// `node bench/idle-memory.ts [runs]`: the resident memory of `cells-auth start` on a throwaway
// Postgres database, as the bench's memory-idle row reads it, without the rest of the bench: per
// run, a fresh process; RSS 2 s after it serves, then 2 s after one sign-in (what the bench has
// done by the time it reads memory-idle). Extra node flags for the server: CELLS_AUTH_BENCH_NODE_ARGS.

const runs = Number(process.argv[2] ?? 3);
const nodeArgs = process.env.CELLS_AUTH_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bench = await createBenchDatabase();
try {
  const cheap = { login: 'bench', password: 'bench-password-cheap' };
  const hash = await argon2Hash(cheap.password, { memoryCost: 8, timeCost: 1, parallelism: 1 });
  await seedUsers(bench.pool, [{ id: BENCH_USER_ID, login: cheap.login, hash }]);
  const idle: number[] = [];
  const signedIn: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ours = await startCellsAuth({ databaseUrl: bench.url, nodeArgs });
    try {
      await sleep(2000);
      idle.push(memoryOf(ours.pid).rssMB);
      const ag = agent();
      await signIn(ag, await discover(ag, `${ours.url}/oidc`), cheap.login, cheap.password);
      ag.destroy();
      await sleep(2000);
      signedIn.push(memoryOf(ours.pid).rssMB);
      process.stdout.write(`run ${i + 1}: idle ${idle.at(-1)!.toFixed(1)} MB, after one sign-in ${signedIn.at(-1)!.toFixed(1)} MB\n`);
    } finally {
      await ours.stop();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(`median: idle ${median(idle).toFixed(1)} MB, after one sign-in ${median(signedIn).toFixed(1)} MB\n`);
} finally {
  await bench.drop();
}
