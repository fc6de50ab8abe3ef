import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { Database } from '../db/database.ts';
import type { PatChange } from './pat-cache.ts';
import type { NodeGrant } from './scopes.ts';
import type { PersonalAccessTokensTable } from './pat.table.ts';

export type PatRow = Selectable<PersonalAccessTokensTable>;
/** A token as listed: its latest use joined in, and `current_expiry` the one in force. */
export type PatRowWithGrants = PatRow & { grants: NodeGrant[]; created_by_login: string | null; last_used_at: Date | null; last_used_from: string | null };

export interface NewPatRow {
  id: string;
  userId: string;
  label: string;
  digest: string;
  createdAt: Date;
  createdBy: string | null;
  createdVia: PatRow['created_via'];
  expiresAt: Date | null;
  windowSeconds: number | null;
  currentExpiry: Date;
}

/**
 * One token's latest use, to be written. Times are epoch milliseconds, sent as float8 arrays: a
 * Date per value, turned into ISO text for the driver, cost the writer more than the rest of a use.
 */
export interface PatUse {
  id: string;
  atMs: number;
  from: string | null;
  /** A sliding token's expiry after the use; null for a fixed one. */
  slidToMs: number | null;
}

/** What a lookup returns: the token, its owner, its grants. Times are epoch milliseconds. */
export interface VerifiedRow {
  digest: string;
  id: string;
  user_id: string;
  created_ms: number;
  expires_ms: number | null;
  window_seconds: number | null;
  current_expiry_ms: number;
  /** Its latest written use (pat_uses), for a fixed-expiry token's next write (pat-usage.ts). */
  last_used_ms: number | null;
  last_used_from: string | null;
  login: string;
  roles: string[];
  grants: NodeGrant[];
}

// A timestamp as epoch milliseconds (float8): read as a plain number, where a timestamptz is parsed
// from text into a Date by the driver — three of them per token, on every check.
const epochMs = (expr: RawBuilder<unknown>) => sql<number>`(extract(epoch from ${expr}) * 1000)::float8`;

// The expiry in force: a sliding token's latest use moved it (pat_uses, joined as `x`), never past
// the hard expiry (which an operator may have shortened since). greatest/least skip nulls.
const expiryInForce = sql`least(greatest(p.current_expiry, x.slid_expiry), p.expires_at)`;

const grantsOf = (tokenId: string) => sql<NodeGrant[]>`(
  select coalesce(json_agg(json_build_object('node', g.node_uuid, 'perm', g.perm) order by g.node_uuid), '[]'::json)
  from personal_access_token_nodes g where g.token_id = ${sql.ref(tokenId)})`;

/**
 * The statements, unexecuted, so that a test can EXPLAIN exactly what runs (every hot-path one must
 * be an index scan).
 */
export function createPatQueries(db: Kysely<Database>) {
  const raw = <T>(q: RawBuilder<T>) => ({ compile: () => q.compile(db), execute: () => q.execute(db) });
  return {
    /** The token and its node grants in one statement (so no transaction is needed to keep them together). */
    insert: (row: NewPatRow, grants: NodeGrant[]) =>
      raw(sql<PatRow>`
        with t as (
          insert into personal_access_tokens
            (id, user_id, label, digest, created_at, created_by, created_via, expires_at, window_seconds, current_expiry)
          values (${row.id}, ${row.userId}, ${row.label}, ${row.digest}, ${row.createdAt}, ${row.createdBy}, ${row.createdVia},
                  ${row.expiresAt}, ${row.windowSeconds}, ${row.currentExpiry})
          returning *
        ), g as (
          insert into personal_access_token_nodes (token_id, node_uuid, perm)
          select t.id, x.node, x.perm from t, jsonb_to_recordset(${JSON.stringify(grants)}::jsonb) as x(node uuid, perm text)
        )
        select * from t`),

    /**
     * SPEC §6.3, the read half of a use, for several tokens at once (lookups arriving together are
     * sent together): each token that is known, not revoked, of an unlocked owner, with its
     * grants. No row lock: uses of one token never wait for each other. Expiry is checked by the
     * caller, which also knows the uses not yet written.
     */
    lookup: (digests: string[]) =>
      raw(sql<VerifiedRow>`
        select p.digest, p.id, p.user_id, ${epochMs(sql.ref('p.created_at'))} as created_ms, ${epochMs(sql.ref('p.expires_at'))} as expires_ms,
          p.window_seconds, ${epochMs(expiryInForce)} as current_expiry_ms, ${epochMs(sql.ref('x.last_used_at'))} as last_used_ms,
          x.last_used_from, u.login, u.roles, ${grantsOf('p.id')} as grants
        from personal_access_tokens p
        join users u on u.id = p.user_id
        left join pat_uses x on x.token_id = p.id
        where ${
          // One digest (a quiet moment): a plain equality, which Postgres runs for a third of the CPU
          // of unpacking a one-element array.
          digests.length === 1 ? sql`p.digest = ${digests[0]}` : sql`p.digest = any(${digests}::text[])`
        } and p.revoked_at is null and not u.locked`),

    /**
     * The write half, for many uses in one statement: each token's latest use, in pat_uses (a
     * narrow table of the tokens in use, migration 0006). A sliding token's expiry after a use,
     * min(last use + window, hard expiry), is computed by the verifier from the row it read. Rows
     * merge so that uses written by several instances in any order never go back: the latest time
     * and the furthest slide win (the read caps the slide by the hard expiry again); an unknown
     * address keeps the known one, and an older use's never replaces a newer one's. A token deleted
     * meanwhile is skipped (its uses no longer matter).
     *
     * One pass, in token order: each use inserts its row or, finding it, locks and merges into it
     * (ON CONFLICT), so every statement takes its row locks in the same order, and instances writing
     * overlapping batches wait for each other instead of deadlocking (which Postgres breaks by
     * failing one write after a second). Updating in place first and inserting the rest after cost
     * Postgres 15-20% less CPU a use, but it locked in two passes and deadlocked even with each pass
     * in token order: a row another writer inserts between two statements' snapshots is updated by
     * one and inserted by the other. The existence check looks in pat_uses first (a row there means
     * its token exists: it is deleted with it), on the page the conflict check reads next; that wins
     * back half the difference (128 uses a statement, 1,000,000 tokens, alternating, on a slow day:
     * 20.8 us a use for the two passes, 22.2 for this, 24.0 checking the tokens' table only).
     */
    recordUses: (uses: PatUse[]) =>
      raw(sql`
        insert into pat_uses as x (token_id, last_used_at, last_used_from, slid_expiry)
        select u.id, to_timestamp(u.at_ms / 1000), u.from_addr, to_timestamp(u.slid_ms / 1000)
        from unnest(${uses.map((x) => x.id)}::uuid[], ${uses.map((x) => x.atMs)}::float8[], ${uses.map((x) => x.from)}::text[],
            ${uses.map((x) => x.slidToMs)}::float8[]) as u(id, at_ms, from_addr, slid_ms)
        where exists (select from pat_uses k where k.token_id = u.id)
          or exists (select from personal_access_tokens p where p.id = u.id)
        order by u.id
        on conflict (token_id) do update set
          slid_expiry = greatest(x.slid_expiry, excluded.slid_expiry),
          last_used_from = case when x.last_used_at <= excluded.last_used_at then coalesce(excluded.last_used_from, x.last_used_from) else x.last_used_from end,
          last_used_at = greatest(x.last_used_at, excluded.last_used_at)`),

    /**
     * The change feed (pat-cache.ts): the changes whose transaction was not visible to the snapshot
     * with the given xmin, oldest first, and this statement's own snapshot xmin for the next read.
     * From null, only the xmin.
     */
    changesSince: (xmin: string | null, limit: number) =>
      raw(sql<{ xmin: string; changes: PatChange[] }>`
        select pg_snapshot_xmin(pg_current_snapshot())::text as xmin, ${
          xmin === null
            ? sql`'[]'::json`
            : sql`coalesce((select json_agg(json_build_object('seq', c.seq, 'token', c.token_id, 'user', c.user_id) order by c.seq)
                from (select seq, token_id, user_id from pat_changes where xid >= ${xmin}::xid8 order by seq limit ${limit}) c), '[]'::json)`
        } as changes`),

    pruneChanges: (before: Date) => db.deleteFrom('pat_changes').where('at', '<', before),

    listByUser: (userId: string) =>
      db
        .selectFrom('personal_access_tokens as p')
        .leftJoin('users as c', 'c.id', 'p.created_by')
        .leftJoin('pat_uses as x', 'x.token_id', 'p.id')
        .select(['p.id', 'p.user_id', 'p.label', 'p.digest', 'p.created_at', 'p.created_by', 'p.created_via', 'p.expires_at', 'p.window_seconds', 'p.revoked_at'])
        .select(['x.last_used_at', 'x.last_used_from', expiryInForce.as('current_expiry')])
        .select('c.login as created_by_login')
        .select((eb) =>
          jsonArrayFrom(
            eb.selectFrom('personal_access_token_nodes as g').select(['g.node_uuid as node', 'g.perm']).whereRef('g.token_id', '=', 'p.id').orderBy('g.node_uuid'),
          ).as('grants'),
        )
        .where('p.user_id', '=', userId)
        .orderBy('p.created_at', 'desc')
        .orderBy('p.id'),

    /** Revokes once: an already revoked token keeps its first revocation time. */
    revoke: (id: string, now: Date, ownerId?: string) => {
      let q = db.updateTable('personal_access_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null);
      if (ownerId !== undefined) q = q.where('user_id', '=', ownerId);
      return q.returning(['id', 'user_id']);
    },

    find: (id: string, ownerId?: string) => {
      let q = db.selectFrom('personal_access_tokens').select(['id', 'user_id', 'revoked_at']).where('id', '=', id);
      if (ownerId !== undefined) q = q.where('user_id', '=', ownerId);
      return q;
    },
  };
}

export function createPatRepository(db: Kysely<Database>) {
  const q = createPatQueries(db);
  return {
    insert: async (row: NewPatRow, grants: NodeGrant[]) => (await q.insert(row, grants).execute()).rows[0]!,
    /** The rows of the digests found, by digest. */
    lookup: async (digests: string[]) => new Map((await q.lookup(digests).execute()).rows.map((r) => [r.digest, r])),
    recordUses: async (uses: PatUse[]) => {
      await q.recordUses(uses).execute();
    },
    changesSince: async (xmin: string | null, limit: number) => (await q.changesSince(xmin, limit).execute()).rows[0]!,
    pruneChanges: async (before: Date) => {
      await q.pruneChanges(before).execute();
    },
    listByUser: (userId: string) => q.listByUser(userId).execute() as Promise<PatRowWithGrants[]>,
    revoke: (id: string, now: Date, ownerId?: string) => q.revoke(id, now, ownerId).executeTakeFirst(),
    find: (id: string, ownerId?: string) => q.find(id, ownerId).executeTakeFirst(),
  };
}

export type PatRepository = ReturnType<typeof createPatRepository>;
