import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/schema.ts';
import type { Database } from './database.ts';
import { lockPgliteDir } from './pglite-lock.ts';
import { prepareStatements } from './prepared.ts';

// The embedded database lives in this process: Postgres's default 128 MB of shared buffers made an
// idle instance 430 MB resident; with 16 MB it is about 240 MB (the first start, which creates the
// data directory with Postgres's defaults, stays near 320 MB until restarted). 16 MB holds the
// working set of the deployments PGlite is for; the operating system still caches the data files,
// and Postgres (DATABASE_URL) is for the rest.
const PGLITE_SHARED_BUFFERS = '16MB';

// Where the data lives. A discriminated union so that tests can pick a throwaway database without
// going through the configuration.
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize: number }
  | {
      kind: 'pglite';
      dir: string | null;
      /**
       * A data directory (a tarball from PGlite's dumpDataDir) to start an empty `dir` from, instead
       * of running initdb. Tests use a copy of one freshly initialised cluster, as Postgres's
       * CREATE DATABASE copies a template: initdb in WebAssembly is seconds of CPU.
       */
      initialData?: Blob;
    };

export interface DbHandle {
  db: Kysely<Database>;
  kind: DatabaseTarget['kind'];
  /** Pool state for metrics and readiness (PGlite has a single in-process connection). */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export function targetFromConfig(config: Config): DatabaseTarget {
  if (config.database.url) return { kind: 'postgres', url: config.database.url, poolSize: config.database.poolSize };
  return { kind: 'pglite', dir: join(config.dataDir, 'pglite') };
}

/** A label for logs that never includes a password. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'pglite') return `PGlite (${target.dir ?? 'in memory'})`;
  const u = new URL(target.url);
  return `Postgres ${u.hostname}:${u.port || 5432}${u.pathname}`;
}

export async function connectDatabase(target: DatabaseTarget): Promise<DbHandle> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize,
      connectionTimeoutMillis: 5_000,
      // A query that hangs must not hold a request forever (the database may be gone).
      query_timeout: 15_000,
    });
    // A client losing its server must not crash the process. The pool reports idle clients here;
    // a checked-out client emits 'error' on itself (its query rejects as well, and that is what the
    // caller handles), so every client gets a listener when it connects.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    prepareStatements(pool);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  let unlock = () => {};
  if (target.dir) {
    mkdirSync(target.dir, { recursive: true });
    unlock = lockPgliteDir(target.dir);
  }
  try {
    // Loaded only here: a server on Postgres does not carry the embedded database's module.
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = await PGlite.create(target.dir ?? undefined, {
      loadDataDir: target.initialData,
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
    });
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
    return {
      db,
      kind: 'pglite',
      poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
      async close() {
        await db.destroy();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}
