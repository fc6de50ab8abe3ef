import { z } from 'zod';

// One zod guard per route: request and response. Field names as the API shows them (camelCase,
// like the users API); the mint body takes the CLI's grammar (SPEC §6.1).

export const mintBody = z.strictObject({
  label: z.string().trim().max(200).optional(),
  /** Hard expiry: a Go duration plus `d` (`24h`, `28d`). */
  expire: z.string().max(64).optional(),
  /** Sliding window: integer seconds or a Go duration. */
  auto: z.union([z.string().max(64), z.number()]).optional(),
  /** `node:UUID:PERM`, comma-separated in a string or as a list. */
  scopes: z.union([z.string().max(8192), z.array(z.string().max(8192)).max(200)]).optional(),
});

export const patView = z.object({
  id: z.string(),
  userId: z.string(),
  label: z.string(),
  status: z.enum(['active', 'expired', 'revoked']),
  createdAt: z.string(),
  createdBy: z.object({ userId: z.string().nullable(), login: z.string().nullable(), via: z.enum(['cli', 'admin', 'self']) }),
  expiresAt: z.string().nullable(),
  autoRefreshSeconds: z.number().nullable(),
  currentExpiry: z.string(),
  lastUsedAt: z.string().nullable(),
  lastUsedFrom: z.string().nullable(),
  revokedAt: z.string().nullable(),
  scopes: z.array(z.string()),
});

/** The one response that carries the secret. */
export const mintResponse = patView.extend({
  token: z.string(),
  warning: z.string(),
});

export const tokenList = z.object({ tokens: z.array(patView) });

export const loginParams = z.object({ login: z.string().min(1).max(256) });
export const tokenIdParams = z.object({ id: z.guid() });

export const SHOWN_ONCE = 'This token is shown once and grants access to the user’s resources: keep it secret.';
