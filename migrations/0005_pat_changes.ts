import { sql, type Kysely } from 'kysely';

// Frozen: later changes go in new migrations. One statement per call (PGlite runs them one by one).

export async function up(db: Kysely<any>): Promise<void> {
  // Instances keep the PATs they verified in memory (src/pat/pat-cache.ts). Anything that can make a
  // cached answer wrong is written here by a trigger, whoever made it (an instance, the CLI, an
  // operator's own SQL), and every instance reads what is new a few times a second. `xid` is the
  // writing transaction: a reader asks for every change not visible to its previous read's snapshot
  // (xid >= that snapshot's xmin), which no ordering of commits can slip past, as a sequence could.
  await db.schema
    .createTable('pat_changes')
    .addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('xid', sql`xid8`, (c) => c.notNull().defaultTo(sql`pg_current_xact_id()`))
    .addColumn('token_id', 'uuid')
    .addColumn('user_id', 'uuid')
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('pat_changes_xid').on('pat_changes').column('xid').execute();
  await db.schema.createIndex('pat_changes_at').on('pat_changes').column('at').execute();

  await sql`create function pat_changed_tokens() returns trigger language plpgsql as $$
    begin
      insert into pat_changes (token_id) select distinct token_id from changed_rows;
      return null;
    end $$`.execute(db);
  await sql`create function pat_deleted_tokens() returns trigger language plpgsql as $$
    begin
      insert into pat_changes (token_id) select id from changed_rows;
      return null;
    end $$`.execute(db);
  await sql`create function pat_changed_token() returns trigger language plpgsql as $$
    begin
      insert into pat_changes (token_id) values (old.id);
      return null;
    end $$`.execute(db);
  await sql`create function pat_changed_user() returns trigger language plpgsql as $$
    begin
      insert into pat_changes (user_id) values (old.id);
      return null;
    end $$`.execute(db);

  // A token revoked, shortened, moved to another owner or given another digest. The uses written on
  // the hot path only move current_expiry forward: the condition keeps them out, at a few
  // comparisons per row.
  await sql`create trigger pat_token_changed after update on personal_access_tokens for each row
    when (new.revoked_at is distinct from old.revoked_at or new.current_expiry < old.current_expiry
      or new.expires_at is distinct from old.expires_at or new.user_id <> old.user_id or new.digest <> old.digest)
    execute function pat_changed_token()`.execute(db);
  // Deleted one by one or by the thousand (a user's deletion cascades): one statement of changes.
  await sql`create trigger pat_token_deleted after delete on personal_access_tokens
    referencing old table as changed_rows for each statement execute function pat_deleted_tokens()`.execute(db);
  // Node scopes changed after the mint (the mint writes them with the token, before any use).
  for (const [event, table] of [
    ['insert', 'new'],
    ['update', 'new'],
    ['delete', 'old'],
  ] as const) {
    await sql
      .raw(
        `create trigger pat_nodes_${event} after ${event} on personal_access_token_nodes
         referencing ${table} table as changed_rows for each statement execute function pat_changed_tokens()`,
      )
      .execute(db);
  }
  // An owner locked, renamed, given other roles, or deleted: all of their tokens.
  await sql`create trigger pat_user_changed after update on users for each row
    when (new.locked is distinct from old.locked or new.roles is distinct from old.roles or new.login is distinct from old.login)
    execute function pat_changed_user()`.execute(db);
  await sql`create trigger pat_user_deleted after delete on users for each row execute function pat_changed_user()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger pat_user_deleted on users`.execute(db);
  await sql`drop trigger pat_user_changed on users`.execute(db);
  for (const event of ['insert', 'update', 'delete']) await sql.raw(`drop trigger pat_nodes_${event} on personal_access_token_nodes`).execute(db);
  await sql`drop trigger pat_token_deleted on personal_access_tokens`.execute(db);
  await sql`drop trigger pat_token_changed on personal_access_tokens`.execute(db);
  await sql`drop function pat_changed_user()`.execute(db);
  await sql`drop function pat_changed_token()`.execute(db);
  await sql`drop function pat_deleted_tokens()`.execute(db);
  await sql`drop function pat_changed_tokens()`.execute(db);
  await db.schema.dropTable('pat_changes').execute();
}
