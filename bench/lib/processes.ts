import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVER_MALLOC_ENV, SERVER_NODE_FLAGS } from '../../src/process-tuning.ts';
import { freePort } from '../../test/helpers/free-port.ts';

// Every server under test runs as its own process, so that its memory and CPU are its own and
// can be read from /proc (the load generator lives in the bench process and is not counted).

export const CLI = fileURLToPath(new URL('../../bin/cells-auth.js', import.meta.url));

export interface Served {
  name: string;
  url: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `node <args>` and waits for `ready` in its output (30 s at most). */
export async function serve(name: string, args: string[], env: Record<string, string>, ready: string, port: number): Promise<Served> {
  const proc: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Keep only the tail: a chatty server must not grow the bench process.
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 30_000);
    const check = () => {
      if (out.includes(ready)) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before serving:\n${out}`));
    });
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid!,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `cells-auth start` on the given database, logging at `warn` unless told otherwise. */
export async function startCellsAuth(opts: { databaseUrl: string; env?: Record<string, string>; nodeArgs?: string[] }): Promise<Served> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: opts.databaseUrl,
    CELLS_AUTH_BIND: `127.0.0.1:${port}`,
    CELLS_AUTH_PUBLIC_URL: url,
    CELLS_AUTH_ADMIN_PASSWORD: 'bench-admin-password',
    CELLS_AUTH_LOG_LEVEL: 'info',
    ...opts.env,
  };
  return serve('cells-auth', [...(opts.nodeArgs ?? []), CLI, 'start'], env, 'cells-auth is serving', port);
}

/**
 * A baseline script under bench/baselines; it prints `listening` once it serves. It runs with the
 * same Node flags and malloc settings `cells-auth start` gives itself (src/process-tuning.ts), so
 * that a ratio compares the software, not how each runtime was set up.
 */
export async function startBaseline(script: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Served> {
  const port = await freePort();
  const file = fileURLToPath(new URL(`../baselines/${script}`, import.meta.url));
  return serve(script.replace(/\.ts$/, ''), [...SERVER_NODE_FLAGS, ...nodeArgs, file], { ...SERVER_MALLOC_ENV, PORT: String(port), ...env }, 'listening', port);
}

/** Resident memory now and its high-water mark, in MB (Linux /proc). */
export function memoryOf(pid: number): { rssMB: number; hwmMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

const TICKS = 100; // USER_HZ on every Linux we run on (getconf CLK_TCK)

/**
 * Nanoseconds a process, or one of its threads, has run so far (Linux's scheduler statistics, exact
 * to the nanosecond); 0 once it has gone. A Node process's main thread (`thread` = its pid) is its
 * event loop: JavaScript, and the garbage collector, which runs there (--single-threaded-gc), without
 * libuv's threads, where argon2 and RSA signing run.
 */
export function runNs(pid: number, thread?: number): number {
  try {
    return Number(readFileSync(thread === undefined ? `/proc/${pid}/schedstat` : `/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system, every thread) the process has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
