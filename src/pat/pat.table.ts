import type { ColumnType, Generated } from 'kysely';

export interface PersonalAccessTokensTable {
  id: string;
  user_id: string;
  label: Generated<string>;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  digest: string;
  created_at: Date;
  created_by: string | null;
  created_via: 'cli' | 'admin' | 'self';
  /** Hard expiry; null for a token that only slides. */
  expires_at: Date | null;
  /** Sliding window; null for a token with a fixed expiry. */
  window_seconds: number | null;
  current_expiry: Date;
  last_used_at: ColumnType<Date | null, never, Date | null>;
  last_used_from: ColumnType<string | null, never, string | null>;
  revoked_at: ColumnType<Date | null, never, Date | null>;
}

export interface PersonalAccessTokenNodesTable {
  token_id: string;
  node_uuid: string;
  perm: 'r' | 'w' | 'rw';
}

/** Written by triggers (migration 0005): what may make a cached verification wrong. */
export interface PatChangesTable {
  seq: Generated<string>;
  xid: Generated<string>;
  token_id: string | null;
  user_id: string | null;
  at: Generated<Date>;
}
