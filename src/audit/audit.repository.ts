import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface AuditInsert {
  at: Date;
  action: string;
  outcome: 'success' | 'failure';
  actorId: string | null;
  actorLogin: string | null;
  address: string | null;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  actorLogin?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  since?: Date;
  until?: Date;
  /** Keyset paging: events with a smaller id than this. */
  before?: string;
  limit: number;
}

const toRecord = (e: AuditInsert) => ({
  at: e.at,
  action: e.action,
  outcome: e.outcome,
  actor_id: e.actorId,
  actor_login: e.actorLogin,
  address: e.address,
  target_type: e.targetType,
  target_id: e.targetId,
  details: e.details,
});

export function createAuditRepository(db: Kysely<Database>) {
  return {
    insert: (e: AuditInsert) =>
      db
        .insertInto('audit_events')
        .values({ ...toRecord(e), details: JSON.stringify(e.details) })
        .execute(),

    /**
     * Several events in one statement, in their order (a function scan reads the array in order,
     * so the ids follow it), from one JSON array: a fixed text whatever the
     * count (prepared once per connection, where a VALUES list would be a new text per count).
     */
    insertMany: (events: AuditInsert[]) =>
      sql`insert into audit_events (at, action, outcome, actor_id, actor_login, address, target_type, target_id, details)
        select at, action, outcome, actor_id, actor_login, address, target_type, target_id, details
        from jsonb_to_recordset(${JSON.stringify(events.map(toRecord))}::jsonb) as e(at timestamptz, action text, outcome text,
          actor_id uuid, actor_login text, address text, target_type text, target_id text, details jsonb)`.execute(db),

    list: (f: AuditFilter) => {
      let q = db.selectFrom('audit_events').selectAll();
      if (f.action) q = q.where('action', '=', f.action);
      if (f.actorId) q = q.where('actor_id', '=', f.actorId);
      if (f.actorLogin) q = q.where('actor_login', '=', f.actorLogin);
      if (f.targetId) q = q.where('target_id', '=', f.targetId);
      if (f.outcome) q = q.where('outcome', '=', f.outcome);
      if (f.since) q = q.where('at', '>=', f.since);
      if (f.until) q = q.where('at', '<', f.until);
      if (f.before) q = q.where('id', '<', f.before);
      return q.orderBy('id', 'desc').limit(f.limit).execute();
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
