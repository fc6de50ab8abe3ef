import type { ColumnType, Generated } from 'kysely';

export interface ClientsTable {
  client_id: string;
  metadata: ColumnType<Record<string, unknown>, string, string>;
  first_party: Generated<boolean>;
  introspect: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
