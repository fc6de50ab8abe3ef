import type { NodeGrant } from '../pat/scopes.ts';

/** Who a request acts for, from a bearer credential (SPEC §6.5); shared by every API that takes one. */
export interface Principal {
  userId: string;
  login: string;
  roles: string[];
  via: 'pat' | 'access_token';
  /** A PAT's node grants; empty for an unscoped PAT; absent for an access token. */
  nodeGrants?: NodeGrant[];
  /** The PAT's id (for a PAT). */
  tokenId?: string;
  /** Space-separated: an access token's OAuth scopes, or a PAT's node scopes. */
  scope: string;
  /** When the credential stops working, epoch seconds (a sliding PAT: after this use). */
  expiresAt: number;
  /** A PAT's hard expiry, epoch seconds, or null when it only slides (absent for an access token). */
  hardExpiresAt?: number | null;
}

/** A PAT limited to nodes: it may act on those nodes only, never on the APIs that manage things. */
export function isNodeScoped(principal: Principal): boolean {
  return (principal.nodeGrants?.length ?? 0) > 0;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guards of the APIs that take a bearer credential. */
    principal: Principal | null;
  }
}
