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
  /** The expiry when minted (or as an operator set it); a sliding token's uses move it in pat_uses. */
  current_expiry: Date;
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

/** The latest use of each token used at least once (migration 0006). */
export interface PatUsesTable {
  token_id: string;
  last_used_at: Date;
  last_used_from: string | null;
  /** A sliding token's expiry after its latest use (null for a fixed expiry). */
  slid_expiry: Date | null;
}
