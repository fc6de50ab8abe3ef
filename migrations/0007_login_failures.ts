import { type Kysely } from 'kysely';

// Frozen: later changes go in new migrations. One statement per call (PGlite runs them one by one).

export async function up(db: Kysely<unknown>): Promise<void> {
  // Failed sign-ins per client address and fixed window (windows aligned on the epoch, so that every
  // instance counts into the same row): the per-address limit then holds across instances, where
  // each instance's own count (util/throttle.ts) sees only the attempts it served. Old windows are
  // swept (oidc/sweeper.ts).
  await db.schema
    .createTable('login_failures')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_failures_pk', ['address', 'window_start'])
    .execute();
  await db.schema.createIndex('login_failures_window').on('login_failures').column('window_start').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('login_failures').execute();
}
