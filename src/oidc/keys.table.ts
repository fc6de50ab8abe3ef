import type { ColumnType, Generated } from 'kysely';

export type KeyState = 'next' | 'active' | 'retired';

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: ColumnType<Record<string, unknown>, string, string>;
  state: KeyState;
  created_at: Generated<Date>;
  activated_at: Date | null;
  retired_at: Date | null;
  publish_until: Date | null;
}

export interface CookieKeysTable {
  id: Generated<number>;
  secret: string;
  created_at: Generated<Date>;
}
