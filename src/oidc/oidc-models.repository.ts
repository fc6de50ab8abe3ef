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

/** SQL for the oidc-provider models. Every read hides rows whose expiry has passed. */
export function createOidcModelsRepository(db: Kysely<Database>) {
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
        )
        .execute(),

    find: (model: string, id: string, now: Date): Promise<StoredModel | undefined> =>
      db
        .selectFrom('oidc_models')
        .select(['payload', 'consumed_at'])
        .where('model', '=', model)
        .where('id', '=', id)
        .where(live(now))
        .executeTakeFirst(),

    findBy: (model: string, column: 'uid' | 'user_code', value: string, now: Date): Promise<StoredModel | undefined> =>
      db
        .selectFrom('oidc_models')
        .select(['payload', 'consumed_at'])
        .where('model', '=', model)
        .where(column, '=', value)
        .where(live(now))
        .executeTakeFirst(),

    /**
     * Marks a code or token used, in one conditional UPDATE: of parallel redemptions exactly one sees
     * a row come back.
     */
    consume: async (model: string, id: string, now: Date): Promise<boolean> => {
      const row = await db
        .updateTable('oidc_models')
        .set({ consumed_at: now })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },


    destroy: (model: string, id: string) => db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute(),

    revokeByGrantId: (grantId: string) => db.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute(),

    /**
     * Everything the provider keeps for one account (sessions, grants, codes, access and refresh
     * tokens): the expression matches the index of migration 0004. Returns how many rows went.
     */
    deleteByAccount: async (accountId: string): Promise<number> => {
      const result = await db.deleteFrom('oidc_models').where(sql`payload ->> 'accountId'`, '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Deletes up to `limit` expired rows; returns how many went. */
    sweepExpired: async (now: Date, limit: number): Promise<number> => {
      const result = await db
        .deleteFrom('oidc_models')
        // (model, id) in (…): a row-value comparison, parenthesised (a bare list is a syntax error).
        .where(({ eb, refTuple, selectFrom }) =>
          eb(
            refTuple('model', 'id'),
            'in',
            selectFrom('oidc_models').select(['model', 'id']).where('expires_at', '<', now).limit(limit).$asTuple('model', 'id'),
          ),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type OidcModelsRepository = ReturnType<typeof createOidcModelsRepository>;
