import { z } from 'zod';
import { LOGIN_PATTERN, LOGIN_RULE } from '../accounts/users.service.ts';
import { timestamp } from '../errors/error.schemas.ts';
import { text } from '../http/text.schemas.ts';

// One zod guard per route: request and response. Field names as the API shows them (camelCase,
// like the users API); the mint body takes the CLI's grammar (SPEC §6.1).

export const mintBody = z.strictObject({
  label: text(200).trim().optional(),
  /** Hard expiry: a Go duration plus `d` (`24h`, `28d`). */
  expire: z.string().max(64).optional(),
  /** Sliding window: integer seconds or a Go duration. */
  auto: z.union([z.string().max(64), z.number()]).optional(),
  /** `node:UUID:PERM`, comma-separated in a string or as a list. */
  scopes: z.union([z.string().max(8192), z.array(z.string().max(8192)).max(200)]).optional(),
});

export const patView = z
  .object({
    id: z.string().meta({ format: 'uuid' }),
    userId: z.string(),
    label: z.string(),
    status: z.enum(['active', 'expired', 'revoked']),
    createdAt: timestamp,
    createdBy: z.object({ userId: z.string().nullable(), login: z.string().nullable(), via: z.enum(['cli', 'admin', 'self']) }),
    expiresAt: timestamp.nullable().meta({ description: 'the hard expiry; null for a token that only slides' }),
    autoRefreshSeconds: z.number().nullable().meta({ description: 'the sliding window: each use moves currentExpiry to now + this' }),
    currentExpiry: timestamp.meta({ description: 'when it stops working unless used again' }),
    lastUsedAt: timestamp.nullable(),
    lastUsedFrom: z.string().nullable(),
    revokedAt: timestamp.nullable(),
    scopes: z.array(z.string()).meta({ description: 'node:NODE_UUID:PERM; empty: the owner’s full rights' }),
  })
  .meta({ id: 'PersonalAccessToken' });

/** The one response that carries the secret. */
export const mintResponse = patView.extend({
  token: z.string().meta({ description: 'the secret, shown once: only its digest is kept' }),
  warning: z.string(),
}).meta({ id: 'MintedPersonalAccessToken' });

export const tokenList = z.object({ tokens: z.array(patView) });

// A string that cannot be a login cannot name a user (and never reaches a query).
export const loginParams = z.object({ login: z.string().regex(LOGIN_PATTERN, LOGIN_RULE) });
export const tokenIdParams = z.object({ id: z.guid() });

export const SHOWN_ONCE = 'This token is shown once and grants access to the user’s resources: keep it secret.';
