import { sql, type Kysely } from 'kysely';

// Frozen: later changes go in new migrations. One statement per call (PGlite runs them one by one).

export async function up(db: Kysely<any>): Promise<void> {
  // The uses of PATs, out of the tokens' own table. Every good check writes its token's use (the
  // slide, the last use) within a moment; written into the tokens' rows, each use rewrote a wide row
  // somewhere in a table of millions, and Postgres spent its time evicting and writing back pages
  // (with a million tokens, 40–110 µs of its CPU per check, more than the check). Here a use is a
  // narrow row of a table that holds only the tokens in use, small enough to stay in memory.
  // `current_expiry` of a token is now its expiry when minted (or as an operator set it); a sliding
  // token's is the later of that and `slid_expiry`, never past `expires_at`.
  await db.schema
    .createTable('pat_uses')
    .addColumn('token_id', 'uuid', (c) => c.primaryKey().references('personal_access_tokens.id').onDelete('cascade'))
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_from', 'text')
    .addColumn('slid_expiry', 'timestamptz')
    // Room in each page, so that a use rewrites its row in place (a HOT update: no index written).
    .modifyEnd(sql`with (fillfactor = 70)`)
    .execute();
  await sql`insert into pat_uses (token_id, last_used_at, last_used_from, slid_expiry)
    select id, last_used_at, last_used_from, case when window_seconds is not null then current_expiry end
    from personal_access_tokens where last_used_at is not null`.execute(db);
  await db.schema.alterTable('personal_access_tokens').dropColumn('last_used_at').execute();
  await db.schema.alterTable('personal_access_tokens').dropColumn('last_used_from').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('personal_access_tokens').addColumn('last_used_at', 'timestamptz').execute();
  await db.schema.alterTable('personal_access_tokens').addColumn('last_used_from', 'text').execute();
  await sql`update personal_access_tokens p set last_used_at = u.last_used_at, last_used_from = u.last_used_from,
    current_expiry = least(greatest(p.current_expiry, u.slid_expiry), p.expires_at)
    from pat_uses u where u.token_id = p.id`.execute(db);
  await db.schema.dropTable('pat_uses').execute();
}
