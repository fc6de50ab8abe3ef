import type { ColumnType, Generated } from 'kysely';

export interface UsersTable {
  id: string;
  login: string;
  email: string | null;
  display_name: string | null;
  password_hash: string;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  auth_source: Generated<string>;
  locked: Generated<boolean>;
  failed_logins: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** Failed sign-ins per client address and window (migration 0007). */
export interface LoginFailuresTable {
  address: string;
  window_start: Date;
  failures: number;
}
