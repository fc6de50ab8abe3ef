import { sql, type Kysely } from 'kysely';

// Frozen: later changes go in new migrations. One statement per call (PGlite runs them one by one).

export async function up(db: Kysely<any>): Promise<void> {
  // SPEC §6.2: only the SHA-256 of a token is kept. `current_expiry` is what verification checks; a
  // sliding token moves it on every use, never past `expires_at` (the hard expiry, when there is one).
  // Nothing that moves on use is indexed, and pages keep free room (fillfactor), so that the update
  // on every use is a heap-only (HOT) update: no index is written on the hot path.
  await db.schema
    .createTable('personal_access_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('digest', 'text', (c) => c.notNull().unique().check(sql`digest ~ '^[0-9a-f]{64}$'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    // Who minted it: a user (an admin, or the owner), or null for the command line on the server.
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_via', 'text', (c) => c.notNull().check(sql`created_via in ('cli', 'admin', 'self')`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('window_seconds', 'integer', (c) => c.check(sql`window_seconds > 0`))
    .addColumn('current_expiry', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('last_used_from', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .addCheckConstraint('personal_access_tokens_has_expiry', sql`expires_at is not null or window_seconds is not null`)
    .addCheckConstraint('personal_access_tokens_capped', sql`expires_at is null or current_expiry <= expires_at`)
    .modifyEnd(sql`with (fillfactor = 80)`)
    .execute();
  // A user's tokens, newest first (listing, self-service).
  await db.schema.createIndex('personal_access_tokens_user').on('personal_access_tokens').columns(['user_id', 'created_at']).execute();
  // Deleting a user sets created_by to null in the tokens they minted for others.
  await db.schema
    .createIndex('personal_access_tokens_created_by')
    .on('personal_access_tokens')
    .column('created_by')
    .where('created_by', 'is not', null)
    .execute();

  // Node scopes: one row per node; the primary key serves the lookup by token.
  await db.schema
    .createTable('personal_access_token_nodes')
    .addColumn('token_id', 'uuid', (c) => c.notNull().references('personal_access_tokens.id').onDelete('cascade'))
    .addColumn('node_uuid', 'uuid', (c) => c.notNull())
    .addColumn('perm', 'text', (c) => c.notNull().check(sql`perm in ('r', 'w', 'rw')`))
    .addPrimaryKeyConstraint('personal_access_token_nodes_pk', ['token_id', 'node_uuid'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('personal_access_token_nodes').execute();
  await db.schema.dropTable('personal_access_tokens').execute();
}
