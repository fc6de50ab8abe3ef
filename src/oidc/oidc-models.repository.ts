import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface StoredModel {
  payload: Record<string, unknown>;
  consumed_at: Date | null;
}

export interface UpsertModel {
  model: string;
  id: string;
  /** The payload as JSON text (the adapter serialises it once and checks it). */
  payloadJson: string;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  expiresAt: Date | null;
}

// Several rows of one request in one statement: the removals in a CTE, the upserts as a VALUES
// list. The text depends on the two counts, so it is built once per pair (at most MAX_ROWS each, a
// bounded set of prepared statements). Array or JSON parameters would keep one text, but Postgres
// spent two to three times the CPU unpacking them (measured on 15: two upserts through
// jsonb_to_recordset behind an unnest CTE ~590 µs, as VALUES ~250 µs; one removal and three
// upserts ~280 µs, against ~940 µs as four statements). The caller never passes one key to both
// lists, which one statement could not order.
const MAX_ROWS = 8;
const UPSERT_COLUMNS = 7;
const ON_CONFLICT = `on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
      uid = excluded.uid, user_code = excluded.user_code, expires_at = excluded.expires_at`;
// The column types, for VALUES that are selected from (a plain INSERT … VALUES takes them from the table).
const UPSERT_TYPES = ['text', 'text', 'jsonb', 'text', 'text', 'text', 'timestamptz'];
const writeTexts = new Map<string, string>();
/**
 * `consumed`: the statement first marks a code or token used ($1 model, $2 id, $3 time, as SQL.consume
 * does) and writes the rest only if that won; it then returns one row, `won`.
 */
function writeManyText(removals: number, upserts: number, consumed = false): string {
  const key = `${removals}:${upserts}:${consumed}`;
  let text = writeTexts.get(key);
  if (text) return text;
  const offset = consumed ? 3 : 0;
  const keys = Array.from({ length: removals }, (_, i) => `($${offset + 2 * i + 1}, $${offset + 2 * i + 2})`).join(', ');
  const rows = Array.from({ length: upserts }, (_, i) => {
    const first = offset + 2 * removals + i * UPSERT_COLUMNS;
    return `(${Array.from({ length: UPSERT_COLUMNS }, (_, j) => `$${first + j + 1}${consumed ? `::${UPSERT_TYPES[j]}` : ''}`).join(', ')})`;
  }).join(', ');
  const columns = '(model, id, payload, grant_id, uid, user_code, expires_at)';
  if (consumed) {
    const parts = [`consumed as (${SQL_CONSUME})`];
    if (removals) parts.push(`removed as (delete from oidc_models where (model, id) in (${keys}) and exists (select from consumed))`);
    if (upserts) parts.push(`written as (insert into oidc_models ${columns} select * from (values ${rows}) as v ${columns} where exists (select from consumed) ${ON_CONFLICT})`);
    text = `with ${parts.join(', ')} select exists (select from consumed) as won`;
  } else {
    const remove = `delete from oidc_models where (model, id) in (${keys})`;
    const insert = `insert into oidc_models ${columns} values ${rows} ${ON_CONFLICT}`;
    text = !upserts ? remove : !removals ? insert : `with removed as (${remove}) ${insert}`;
  }
  writeTexts.set(key, text);
  return text;
}

const withGrant = (keyIs: string) => `select t.model, t.id, t.payload, t.consumed_at, g.payload as grant_payload, g.consumed_at as grant_consumed_at
    from oidc_models t
    left join oidc_models g on g.model = 'Grant' and g.id = t.grant_id and (g.expires_at is null or g.expires_at > $3)
    where ${keyIs} and (t.expires_at is null or t.expires_at > $3)`;

// The provider's statements as fixed texts. A sign-in runs about ten of them; built with the
// query builder, building and compiling each was an eighth of the server's CPU per sign-in. The
// texts never change, so they are written once here (and prepared once per connection, see
// db/prepared.ts). Every read hides rows whose expiry has passed.
const LIVE = '(expires_at is null or expires_at > $3)';
const SQL_CONSUME = 'update oidc_models set consumed_at = $3 where model = $1 and id = $2 and consumed_at is null returning id';
const SQL = {
  upsert: writeManyText(0, 1),
  // By id, one or several (lookups arriving together). One id is asked with `id = $2`: with
  // `= any($2)` Postgres spent three times the CPU on the same one-row lookup (measured on 15:
  // ~190 against ~60 µs per execution), and one id is what a sign-in asks every time.
  findOne: `select id, payload, consumed_at from oidc_models where model = $1 and id = $2 and ${LIVE}`,
  findMany: `select id, payload, consumed_at from oidc_models where model = $1 and id = any($2::text[]) and ${LIVE}`,
  // A code or token with its grant (the provider asks for the grant next): one index probe more,
  // one round trip less. The grant's own expiry applies to it.
  findOneWithGrant: withGrant('t.model = $1 and t.id = $2'),
  findManyWithGrant: withGrant('t.model = $1 and t.id = any($2::text[])'),
  // Several kinds at once: an introspection without a type hint asks for the token as an access
  // and as a refresh token in the same turn. The index walks every (kind, id) pair; a pair that
  // was not asked for cannot match (ids are random and unique).
  findAcrossWithGrant: withGrant('t.model = any($1::text[]) and t.id = any($2::text[])'),
  findByUid: `select payload, consumed_at from oidc_models where model = $1 and uid = $2 and ${LIVE}`,
  findByUserCode: `select payload, consumed_at from oidc_models where model = $1 and user_code = $2 and ${LIVE}`,
  consume: SQL_CONSUME,
  destroy: 'delete from oidc_models where model = $1 and id = $2',
  revokeByGrantId: 'delete from oidc_models where grant_id = $1',
  sweepExpired: `delete from oidc_models where (model, id) in
    (select model, id from oidc_models where expires_at < $1 limit $2)`,
};

export interface ModelKey {
  model: string;
  id: string;
}

/** One string for a (kind, id) pair, as a map key (no kind or id holds a NUL: the adapter refuses such ids). */
export const modelKey = (model: string, id: string) => `${model}\u0000${id}`;

export function parseModelKey(key: string): ModelKey {
  const cut = key.indexOf('\u0000');
  return { model: key.slice(0, cut), id: key.slice(cut + 1) };
}

/**
 * The statements with their values, unexecuted, so that a test can EXPLAIN exactly what runs
 * (every hot-path one must be an index scan).
 */
export function createOidcModelsQueries(db: Kysely<Database>) {
  const statement = <R>(text: string, values: unknown[]) => {
    const compiled = CompiledQuery.raw(text, values) as CompiledQuery<R>;
    return { compile: () => compiled, execute: () => db.executeQuery(compiled) };
  };
  return {
    upsert: (m: UpsertModel) =>
      statement(SQL.upsert, [m.model, m.id, m.payloadJson, m.grantId, m.uid, m.userCode, m.expiresAt]),
    /** Several ids of one model in one statement (lookups arriving together are sent together). */
    findMany: (model: string, ids: string[], now: Date) =>
      ids.length === 1
        ? statement<StoredModel & { id: string }>(SQL.findOne, [model, ids[0], now])
        : statement<StoredModel & { id: string }>(SQL.findMany, [model, ids, now]),
    /** Codes or tokens by kind and id, each with its grant: one statement, whatever the mix of kinds. */
    findManyWithGrant: (keys: ModelKey[], now: Date) => {
      const models = [...new Set(keys.map((k) => k.model))];
      const ids = keys.map((k) => k.id);
      const text = models.length > 1 ? SQL.findAcrossWithGrant : ids.length === 1 ? SQL.findOneWithGrant : SQL.findManyWithGrant;
      return statement<StoredModel & ModelKey & { grant_payload: Record<string, unknown> | null; grant_consumed_at: Date | null }>(text, [
        models.length > 1 ? models : models[0],
        ids.length === 1 ? ids[0] : [...new Set(ids)],
        now,
      ]);
    },
    findBy: (model: string, column: 'uid' | 'user_code', value: string, now: Date) =>
      statement<StoredModel>(column === 'uid' ? SQL.findByUid : SQL.findByUserCode, [model, value, now]),
    /**
     * Marks a code or token used, in one conditional UPDATE: of parallel redemptions exactly one sees
     * a row come back.
     */
    consume: (model: string, id: string, now: Date) => statement<{ id: string }>(SQL.consume, [model, id, now]),
    destroy: (model: string, id: string) => statement(SQL.destroy, [model, id]),
    /** At most MAX_ROWS of each (the repository splits larger sets); with `consume`, only if it wins. */
    writeMany: (upserts: UpsertModel[], removals: ModelKey[], consume?: ModelKey & { at: Date }) =>
      statement<{ won: boolean }>(writeManyText(removals.length, upserts.length, consume !== undefined), [
        ...(consume ? [consume.model, consume.id, consume.at] : []),
        ...removals.flatMap((r) => [r.model, r.id]),
        ...upserts.flatMap((m) => [m.model, m.id, m.payloadJson, m.grantId, m.uid, m.userCode, m.expiresAt]),
      ]),
    revokeByGrantId: (grantId: string) => statement(SQL.revokeByGrantId, [grantId]),
    /** Up to `limit` expired rows (off the hot path: the sweeper). */
    sweepExpired: (now: Date, limit: number) => statement(SQL.sweepExpired, [now, limit]),
  };
}

export function createOidcModelsRepository(db: Kysely<Database>) {
  const q = createOidcModelsQueries(db);
  /** MAX_ROWS of each per statement; a redemption goes with the first, and the rest only if it won. */
  async function writeChunks(upserts: UpsertModel[], removals: ModelKey[], consume?: ModelKey & { at: Date }): Promise<boolean> {
    const rows = Math.max(upserts.length, removals.length);
    for (let i = 0; i < rows || (i === 0 && consume); i += MAX_ROWS) {
      const first = i === 0 ? consume : undefined;
      const result = await q.writeMany(upserts.slice(i, i + MAX_ROWS), removals.slice(i, i + MAX_ROWS), first).execute();
      if (first && !result.rows[0]?.won) return false;
    }
    return true;
  }
  return {
    upsert: async (m: UpsertModel) => void (await q.upsert(m).execute()),

    findMany: async (model: string, ids: string[], now: Date): Promise<Map<string, StoredModel>> =>
      new Map((await q.findMany(model, ids, now).execute()).rows.map((r) => [r.id, r])),

    /** Codes or tokens, each with its live grant if it has one (`grant: undefined`: none), by modelKey(). */
    findManyWithGrant: async (keys: ModelKey[], now: Date): Promise<Map<string, StoredModel & { grant: StoredModel | undefined }>> =>
      new Map(
        (await q.findManyWithGrant(keys, now).execute()).rows.map((r) => [
          modelKey(r.model, r.id),
          { payload: r.payload, consumed_at: r.consumed_at, grant: r.grant_payload ? { payload: r.grant_payload, consumed_at: r.grant_consumed_at } : undefined },
        ]),
      ),

    findBy: async (model: string, column: 'uid' | 'user_code', value: string, now: Date): Promise<StoredModel | undefined> =>
      (await q.findBy(model, column, value, now).execute()).rows[0],

    consume: async (model: string, id: string, now: Date): Promise<boolean> => (await q.consume(model, id, now).execute()).rows.length > 0,

    destroy: async (model: string, id: string) => void (await q.destroy(model, id).execute()),

    /** Upserts and removals of distinct keys, in one round trip (one per MAX_ROWS of each). */
    writeMany: async (upserts: UpsertModel[], removals: ModelKey[]) => void (await writeChunks(upserts, removals)),

    /**
     * Marks a code or token used and, only if that won (of parallel redemptions exactly one does),
     * writes the rest, in one statement: the token endpoint's consume and its new tokens in one
     * round trip, and never a consumed code without its tokens. None of the keys may be the consumed one.
     */
    consumeAndWrite: (consume: ModelKey & { at: Date }, upserts: UpsertModel[], removals: ModelKey[]): Promise<boolean> => writeChunks(upserts, removals, consume),

    revokeByGrantId: async (grantId: string) => void (await q.revokeByGrantId(grantId).execute()),

    /**
     * Everything the provider keeps for one account (sessions, grants, codes, access and refresh
     * tokens): the expression matches the index of migration 0004. Returns how many rows went.
     */
    deleteByAccount: async (accountId: string): Promise<number> => {
      const result = await db.deleteFrom('oidc_models').where(sql`payload ->> 'accountId'`, '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Deletes up to `limit` expired rows; returns how many went. */
    sweepExpired: async (now: Date, limit: number): Promise<number> => Number((await q.sweepExpired(now, limit).execute()).numAffectedRows ?? 0),
  };
}

export type OidcModelsRepository = ReturnType<typeof createOidcModelsRepository>;
