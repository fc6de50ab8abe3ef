import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface StoredModel {
  payload: Record<string, unknown>;
  consumed_at: Date | null;
}

export interface UpsertModel {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  expiresAt: Date | null;
}

/**
 * SQL for the oidc-provider models, unexecuted, so that a test can EXPLAIN exactly what runs
 * (every hot-path one must be an index scan). Every read hides rows whose expiry has passed.
 */
export function createOidcModelsQueries(db: Kysely<Database>) {
  const live = (now: Date) => sql<boolean>`(expires_at is null or expires_at > ${now})`;

  return {
    upsert: (m: UpsertModel) =>
      db
        .insertInto('oidc_models')
        .values({
          model: m.model,
          id: m.id,
          payload: JSON.stringify(m.payload),
          grant_id: m.grantId,
          uid: m.uid,
          user_code: m.userCode,
          expires_at: m.expiresAt,
        })
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet((eb) => ({
            payload: eb.ref('excluded.payload'),
            grant_id: eb.ref('excluded.grant_id'),
            uid: eb.ref('excluded.uid'),
            user_code: eb.ref('excluded.user_code'),
            expires_at: eb.ref('excluded.expires_at'),
          })),
        ),

    /** Several ids of one model in one statement (lookups arriving together are sent together). */
    findMany: (model: string, ids: string[], now: Date) =>
      db
        .selectFrom('oidc_models')
        .select(['id', 'payload', 'consumed_at'])
        .where('model', '=', model)
        .where('id', '=', sql<string>`any(${ids}::text[])`)
        .where(live(now)),

    findBy: (model: string, column: 'uid' | 'user_code', value: string, now: Date) =>
      db.selectFrom('oidc_models').select(['payload', 'consumed_at']).where('model', '=', model).where(column, '=', value).where(live(now)),

    /**
     * Marks a code or token used, in one conditional UPDATE: of parallel redemptions exactly one sees
     * a row come back.
     */
    consume: (model: string, id: string, now: Date) =>
      db
        .updateTable('oidc_models')
        .set({ consumed_at: now })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .returning('id'),

    destroy: (model: string, id: string) => db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id),

    revokeByGrantId: (grantId: string) => db.deleteFrom('oidc_models').where('grant_id', '=', grantId),

    /** Up to `limit` expired rows (off the hot path: the sweeper). */
    sweepExpired: (now: Date, limit: number) =>
      db
        .deleteFrom('oidc_models')
        .where(({ eb, selectFrom }) =>
          eb(
            sql.join([sql.ref('model'), sql.ref('id')]),
            'in',
            selectFrom('oidc_models').select(['model', 'id']).where('expires_at', '<', now).limit(limit),
          ),
        ),
  };
}

export function createOidcModelsRepository(db: Kysely<Database>) {
  const q = createOidcModelsQueries(db);
  return {
    upsert: (m: UpsertModel) => q.upsert(m).execute(),

    findMany: async (model: string, ids: string[], now: Date): Promise<Map<string, StoredModel>> =>
      new Map((await q.findMany(model, ids, now).execute()).map((r) => [r.id, r])),

    findBy: (model: string, column: 'uid' | 'user_code', value: string, now: Date): Promise<StoredModel | undefined> =>
      q.findBy(model, column, value, now).executeTakeFirst(),

    consume: async (model: string, id: string, now: Date): Promise<boolean> => (await q.consume(model, id, now).executeTakeFirst()) !== undefined,

    destroy: (model: string, id: string) => q.destroy(model, id).execute(),

    revokeByGrantId: (grantId: string) => q.revokeByGrantId(grantId).execute(),

    /** Deletes up to `limit` expired rows; returns how many went. */
    sweepExpired: async (now: Date, limit: number): Promise<number> => Number((await q.sweepExpired(now, limit).executeTakeFirst()).numDeletedRows),
  };
}

export type OidcModelsRepository = ReturnType<typeof createOidcModelsRepository>;
