import type { ColumnType, Generated } from 'kysely';

export interface AuditEventsTable {
  id: Generated<string>;
  at: Generated<Date>;
  action: string;
  outcome: 'success' | 'failure';
  actor_id: string | null;
  actor_login: string | null;
  address: string | null;
  target_type: string | null;
  target_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
}
