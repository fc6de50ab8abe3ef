// How the serving process is started, measured with `npm run bench` (bench/scenarios/memory.ts).
// Node's defaults suit a machine with gigabytes to spare; a server meant to live in ~250 MB pays
// for them in resident memory, measured on the same load:
// - V8 sizes its old generation from the machine's RAM and lets it grow lazily (to ~160 MB of
//   mostly garbage under sign-in load on a 24 GiB machine): a 256 MB limit makes it collect
//   earlier (peak 330 -> 150 MB) at no measurable CPU cost per request. A live set beyond that is
//   far outside this service's budget; an operator who needs more raises it with NODE_OPTIONS;
// - the young generation grows to 2 x 16 MiB and stays committed: 8 MiB semi-spaces;
// - AsyncLocalStorage (oidc-provider keeps each request's context in one) is built on promise hooks
//   in Node 22, a cost on every promise of every request: --experimental-async-context-frame
//   (Node 24's default) carries the context without them. The whole test suite passes with it.
// - V8 runs its garbage collector's helpers on four background threads, which wake together, in
//   bursts, beside the event loop and the database's backends. On a small machine, where this
//   process shares its cores with Postgres, that burst is what a forward-auth check waits behind:
//   at half the maximum verification rate on 2 cores, p99 was 12-16 ms in 10 runs of 11 with them
//   and 3.9-7.1 ms in 8 runs of 8 without (--single-threaded-gc; the bench's throughput and memory
//   rows stayed within their run-to-run spread). Where cores are plenty and not shared,
//   `node --no-single-threaded-gc bin/cells-auth.js start` gives the helpers back;
// - glibc gives each thread its own malloc arena, each keeping what it once held (argon2 hashes,
//   19 MiB each, run on the libuv threads): two arenas. (Handing big blocks back to the system
//   at once — MALLOC_MMAP_THRESHOLD_ — was measured too: it cost a sixth of the sign-in rate in
//   page faults; accounts/password.ts bounds concurrent hashes instead.)
// `cells-auth start` re-executes itself once with these (same process id, so supervisors and
// signals are unaffected). Settings an operator gave (NODE_OPTIONS, node flags, MALLOC_*) win.
// Once it serves, `releaseStartupMemory` hands back what loading and building left behind.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MARK = 'CELLS_AUTH_PROCESS_TUNED';
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=256', '--experimental-async-context-frame', '--single-threaded-gc'];
export const SERVER_MALLOC_ENV: Record<string, string> = { MALLOC_ARENA_MAX: '2' };

/**
 * For `start` on Linux (bin/cells-auth.js calls it for that command only): replaces this process
 * with a tuned one and does not return. `handOver` gives more environment for the new process,
 * asked only when there will be one.
 */
export function tuneServerProcess(handOver: () => Record<string, string> = () => ({})): void {
  const { argv, env } = process;
  if (env[MARK] || process.platform !== 'linux' || typeof process.execve !== 'function') return;
  const own = `${env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  // An operator's flag wins, its `--no-` form included.
  const flags = SERVER_NODE_FLAGS.filter((f) => {
    const name = f.slice(2).split('=')[0]!;
    return !own.includes(`--${name}`) && !own.includes(`--no-${name}`);
  });
  const tuned: NodeJS.ProcessEnv = { ...env, [MARK]: '1', ...handOver() };
  for (const [k, v] of Object.entries(SERVER_MALLOC_ENV)) tuned[k] ??= v;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...flags, ...argv.slice(1)], tuned);
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * For `start`, once the server is built and listening: one full, compacting collection that also
 * shrinks the young generation. Loading the modules and building the app grew the semi-spaces to
 * their maximum and left the old generation fragmented; V8's memory reducer gives that back only
 * after ~15 s without allocation (idle RSS 136 MB until then, 119 MB after), and an idle server should
 * not hold it until then. Costs one pause of a few tens of milliseconds, before the first request;
 * under load the young generation grows again as it needs. The `gc` function is taken from a
 * throwaway context while the flag is on, so the process's own global gets none.
 */
export function releaseStartupMemory(): void {
  setFlagsFromString('--expose-gc');
  let gc: GcFunction;
  try {
    gc = runInNewContext('gc') as GcFunction;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
