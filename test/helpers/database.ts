import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/db/connect.ts';
import { pgliteTemplate } from './pglite-template.ts';

export type DbKind = 'pglite' | 'postgres';

// The real server CI runs (trust auth); PG_ADMIN_URL points elsewhere when needed.
const ADMIN_URL = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The databases every integration test runs against; CELLS_AUTH_TEST_DBS=pglite narrows it. */
export function dbKinds(): DbKind[] {
  const only = process.env.CELLS_AUTH_TEST_DBS;
  const kinds: DbKind[] = ['pglite', 'postgres'];
  return only ? kinds.filter((k) => only.split(',').includes(k)) : kinds;
}

export function postgresUrl(database: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of the given kind (in memory for PGlite); `drop` removes it. */
export async function freshDatabase(kind: DbKind): Promise<{ target: DatabaseTarget; url?: string; drop(): Promise<void> }> {
  if (kind === 'pglite') return { target: { kind: 'pglite', dir: null, initialData: await pgliteTemplate() }, drop: async () => {} };
  const name = `cells_auth_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = postgresUrl(name);
  return {
    target: { kind: 'postgres', url, poolSize: 10 },
    url,
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}
