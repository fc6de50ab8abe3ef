import { z } from 'zod';
import { ValidationError } from '../errors/app-error.ts';
import { text } from '../http/text.schemas.ts';
import { CLIENT_ID_PATTERN, CLIENT_ID_RULE, DEFAULT_SCOPE, GRANTS, type ClientDefinition } from './client-definition.ts';

// The zod schemas of the clients area: what an operator sends to register a client (CLI, clients
// file, later the admin API) and what we show of a client. Secrets never appear in a view.

// Stored in jsonb, which cannot hold U+0000: free text refuses it (a 400, not a database error).
const uri = text(2048).min(1);

export const MIN_SECRET_LENGTH = 16;

export const registerClientInput = z
  .object({
    clientId: z.string().regex(CLIENT_ID_PATTERN, CLIENT_ID_RULE),
    name: text(200).trim().min(1).optional(),
    /** A public client (native app, SPA) has no secret and must use PKCE unless told otherwise. */
    public: z.boolean().default(false),
    /** No consent screen. */
    firstParty: z.boolean().default(false),
    /** A resource server that may call the introspection endpoint (confidential only). */
    introspect: z.boolean().default(false),
    /** Default: authorization_code + refresh_token when there are redirect URIs, else none. */
    grants: z.array(z.enum(GRANTS, { error: `expected one of ${GRANTS.join(', ')}` })).max(GRANTS.length * 2).optional(),
    redirectUris: z.array(uri).max(100).default([]),
    postLogoutRedirectUris: z.array(uri).max(100).default([]),
    scope: text(500).optional(),
    /** Default: required for a public client, optional for a confidential one. */
    pkceRequired: z.boolean().optional(),
    /** An operator-chosen secret; omitted for a confidential client, one is generated. */
    secret: z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).max(512, 'must be at most 512 characters').optional(),
  })
  .strict();

export type RegisterClientInput = z.input<typeof registerClientInput>;

export const clientIdParam = z.string().regex(CLIENT_ID_PATTERN, CLIENT_ID_RULE);

export const clientView = z.object({
  clientId: z.string(),
  name: z.string(),
  /** Where the client comes from: built in, the clients file, or registered in the database. */
  source: z.enum(['default', 'file', 'database']),
  type: z.enum(['public', 'confidential']),
  firstParty: z.boolean(),
  introspect: z.boolean(),
  pkceRequired: z.boolean(),
  grants: z.array(z.string()),
  /** As registered: ranges and placeholders unexpanded. */
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  scope: z.string(),
  createdAt: z.string().nullable(),
});

export type ClientView = z.infer<typeof clientView>;

/** Parses with a zod schema; the first problem becomes a ValidationError naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = 'request'): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = [...issue.path, ...(unknownKey ? [unknownKey] : [])].join('.');
  throw new ValidationError(path || root, unknownKey ? 'unknown field' : issue.message);
}

/**
 * The definition of a registration, with its defaults settled. `secretDigest` is the digest of the
 * secret the caller chose or generated; a public client must not have one.
 */
export function definitionFromInput(input: z.output<typeof registerClientInput>, secretDigest: string | undefined): ClientDefinition {
  if (input.public && (input.secret !== undefined || secretDigest)) throw new ValidationError('secret', 'a public client has no secret');
  if (!input.public && !secretDigest) throw new ValidationError('secret', 'a confidential client needs a secret');
  return {
    clientId: input.clientId,
    name: input.name ?? input.clientId,
    redirectPatterns: input.redirectUris,
    postLogoutRedirectPatterns: input.postLogoutRedirectUris,
    grants: input.grants ?? (input.redirectUris.length ? ['authorization_code', 'refresh_token'] : []),
    scope: input.scope ?? DEFAULT_SCOPE,
    firstParty: input.firstParty,
    introspect: input.introspect,
    pkceRequired: input.pkceRequired ?? input.public,
    ...(secretDigest ? { secretDigest } : {}),
  };
}
