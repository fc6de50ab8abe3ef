import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { SigningKeysTable } from './keys.table.ts';

export type SigningKeyRow = Selectable<SigningKeysTable>;
type Db = Kysely<Database> | Transaction<Database>;

export function createKeysRepository(db: Kysely<Database>) {
  return {
    db,
    /** Serialises key creation and rotation across instances for the life of the transaction. */
    lock: (trx: Transaction<Database>) => sql`select pg_advisory_xact_lock(hashtext('cells-auth:keys'))`.execute(trx),

    /** Keys still published: next, active, and retired ones whose tokens may still be in use. */
    listPublished: (trx: Db, now: Date) =>
      trx
        .selectFrom('signing_keys')
        .selectAll()
        .where((eb) => eb.or([eb('state', '!=', 'retired'), eb('publish_until', '>', now)]))
        .orderBy('created_at', 'desc')
        .execute(),

    listAll: (trx: Db) => trx.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute(),

    insert: (trx: Db, row: { kid: string; alg: string; jwk: Record<string, unknown>; state: 'next' | 'active'; now: Date }) =>
      trx
        .insertInto('signing_keys')
        .values({
          kid: row.kid,
          alg: row.alg,
          private_jwk: JSON.stringify(row.jwk),
          state: row.state,
          created_at: row.now,
          activated_at: row.state === 'active' ? row.now : null,
        })
        .execute(),

    activate: (trx: Db, kid: string, now: Date) =>
      trx.updateTable('signing_keys').set({ state: 'active', activated_at: now }).where('kid', '=', kid).execute(),

    retire: (trx: Db, kid: string, now: Date, publishUntil: Date) =>
      trx.updateTable('signing_keys').set({ state: 'retired', retired_at: now, publish_until: publishUntil }).where('kid', '=', kid).execute(),

    cookieKeys: (trx: Db) => trx.selectFrom('cookie_keys').select(['secret']).orderBy('id', 'desc').limit(3).execute(),

    insertCookieKey: (trx: Db, secret: string) => trx.insertInto('cookie_keys').values({ secret }).execute(),

    /** A value that changes whenever the published key set does; instances poll it. */
    version: async (trx: Db) => {
      const row = await trx
        .selectFrom('signing_keys')
        .select((eb) => [
          eb.fn.count<string>('kid').as('n'),
          sql<string>`coalesce(max(greatest(created_at, activated_at, retired_at))::text, '')`.as('changed'),
        ])
        .executeTakeFirstOrThrow();
      return `${row.n}:${row.changed}`;
    },
  };
}

export type KeysRepository = ReturnType<typeof createKeysRepository>;
