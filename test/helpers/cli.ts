import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/load.ts';
import { createCoreContext, type CoreContext } from '../../src/core-context.ts';
import type { DatabaseTarget } from '../../src/db/connect.ts';
import { createLogger } from '../../src/util/logger.ts';
import { freshDatabase, type DbKind } from './database.ts';
import { seedPgliteDir } from './pglite-template.ts';

const BIN = fileURLToPath(new URL('../../bin/cells-auth.js', import.meta.url));

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where a spawned CLI keeps its data: the environment that selects it, and the same for this process. */
export interface CliDatabase {
  env: Record<string, string>;
  target: DatabaseTarget;
  dataDir: string;
}

/**
 * A fresh database for CLI processes: a Postgres database, or a PGlite data directory. That
 * directory starts as initdb leaves one (pglite-template.ts), unless `initdb`: then it does not
 * exist yet, and the first command creates it, as on a new machine.
 */
export async function cliDatabase(t: Tap, kind: DbKind, options: { initdb?: boolean } = {}): Promise<CliDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cells-auth-cli-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  if (kind === 'pglite') {
    const dir = join(dataDir, 'pglite');
    if (!options.initdb) await seedPgliteDir(dir);
    return { env: { CELLS_AUTH_DATA_DIR: dataDir }, target: { kind: 'pglite', dir }, dataDir };
  }
  const db = await freshDatabase('postgres');
  t.teardown(() => db.drop());
  return { env: { CELLS_AUTH_DATA_DIR: dataDir, DATABASE_URL: db.url! }, target: db.target, dataDir };
}

/** Looks at the database the CLI wrote, from this process (and lets go of it before the next command). */
export async function withContextOf<T>(db: CliDatabase, fn: (ctx: CoreContext) => Promise<T>): Promise<T> {
  const ctx = await createCoreContext(loadConfig({ env: {} }), { database: db.target, log: createLogger('silent') });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** A refused command, as every command is refused: exit 1, nothing on stdout, one line on stderr. */
export function expectCliFailure(t: Test, r: CliResult, message: RegExp, what: string): void {
  t.equal(r.code, 1, `${what}: exit 1`);
  t.equal(r.stdout, '', `${what}: nothing on stdout`);
  t.match(r.stderr, new RegExp(`^cells-auth: ${message.source}\\n$`), `${what}: one line on stderr`);
}

/** A CLI database with the public URL the client tests register redirect URIs against. */
export async function commandDatabase(t: Tap, kind: DbKind, publicUrl = 'https://cells.example.com') {
  const db = await cliDatabase(t, kind);
  return { env: { ...db.env, CELLS_AUTH_PUBLIC_URL: publicUrl }, target: db.target, dir: db.dataDir };
}

// Only what the command needs: nothing from the developer's own environment leaks into a test.
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), CELLS_AUTH_LOG_LEVEL: 'info', ...env };
}

function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs one command to its end; `input` is piped to standard input (which is closed either way). */
export function runCli(args: string[], opts: { env: Record<string, string>; input?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, opts.env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cells-auth ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

export interface RunningCli {
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit. */
  stop(): Promise<CliResult>;
}

/** Spawns `cells-auth start` and resolves once it logs that it is serving. */
export function startCli(t: Tap, opts: { env: Record<string, string>; timeoutMs?: number }): Promise<RunningCli> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(['start'], opts.env);
    let stdout = '';
    let stderr = '';
    let exited: CliResult | undefined;
    const exit = new Promise<CliResult>((done) =>
      child.on('close', (code) => {
        exited = { code, stdout, stderr };
        done(exited);
      }),
    );
    const running: RunningCli = {
      stdout: () => stdout,
      stderr: () => stderr,
      stop: () => {
        if (!exited) child.kill('SIGTERM');
        return exit;
      },
    };
    t.teardown(() => {
      if (!exited) child.kill('SIGKILL');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cells-auth start did not serve in time; stdout: ${stdout}; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout!.on('data', (c) => {
      stdout += c;
      if (stdout.includes('"msg":"cells-auth is serving"')) {
        clearTimeout(timer);
        resolve(running);
      }
    });
    child.stderr!.on('data', (c) => (stderr += c));
    child.on('error', reject);
    void exit.then((r) => {
      clearTimeout(timer);
      reject(new Error(`cells-auth start exited (${r.code}) before serving; stderr: ${r.stderr}`));
    });
    child.stdin!.end();
  });
}
