import type { ClientMetadata } from 'oidc-provider';
import { ValidationError } from '../errors/app-error.ts';
import { applicationTypeFor, expandRedirectPatterns, RedirectPatternError, type PlaceholderContext } from './redirect-rules.ts';

// One description of a client, whatever it came from (the defaults, the clients file, an operator's
// command), and the one function that turns it into provider metadata. Every source is checked by the
// same rules, so a client the file accepts is a client the CLI would accept.

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const CLIENT_ID_RULE = 'letters, digits and . _ : - only, starting with a letter or digit, at most 128';

/** The grants the provider has enabled. */
export const GRANTS = ['authorization_code', 'refresh_token'] as const;
export type Grant = (typeof GRANTS)[number];

export const SUPPORTED_SCOPES = ['openid', 'email', 'profile', 'pydio', 'offline', 'offline_access'];
export const DEFAULT_SCOPE = SUPPORTED_SCOPES.join(' ');
const OFFLINE = ['offline', 'offline_access'];

/** Extra metadata we keep on every client (oidc-provider `extraClientMetadata`). */
export interface CellsClientExtras {
  /** No consent screen: the operator vouches for the client (Cells never shows one). */
  first_party?: boolean;
  /** A resource server allowed to call the introspection endpoint. */
  introspect?: boolean;
  /** PKCE is refused when missing. */
  pkce_required?: boolean;
  /** The patterns as registered (ranges, placeholders), before expansion. */
  redirect_patterns?: string[];
  post_logout_redirect_patterns?: string[];
}

export type CellsClientMetadata = ClientMetadata & CellsClientExtras;

export interface ClientDefinition {
  clientId: string;
  name: string;
  redirectPatterns: string[];
  postLogoutRedirectPatterns: string[];
  grants: Grant[];
  scope: string;
  firstParty: boolean;
  introspect: boolean;
  pkceRequired: boolean;
  /** Digest of the secret (client-secret.ts); absent for a public client. */
  secretDigest?: string;
}

/**
 * Checks a scope list against the provider's scopes. `offline` and `offline_access` are one scope
 * here (SPEC §2: either yields a refresh token, and Cells' own client lists carry only `offline`), so
 * a client allowed one is allowed both.
 */
export function normalizeScope(scope: string): string {
  const scopes = scope.split(' ').filter(Boolean);
  const unknown = scopes.find((s) => !SUPPORTED_SCOPES.includes(s));
  if (unknown) throw new ValidationError('scope', `unknown scope "${unknown}" (supported: ${SUPPORTED_SCOPES.join(' ')})`);
  if (!scopes.length) throw new ValidationError('scope', 'must name at least one scope');
  if (scopes.some((s) => OFFLINE.includes(s))) scopes.push(...OFFLINE);
  return [...new Set(scopes)].join(' ');
}

function expand(field: string, patterns: string[], ctx: PlaceholderContext): string[] {
  try {
    return expandRedirectPatterns(patterns, ctx);
  } catch (err) {
    if (err instanceof RedirectPatternError) throw new ValidationError(field, err.message);
    throw err;
  }
}

/** The provider metadata of a definition; a definition the rules refuse throws a ValidationError naming the field. */
export function toProviderMetadata(def: ClientDefinition, ctx: PlaceholderContext): CellsClientMetadata {
  if (!CLIENT_ID_PATTERN.test(def.clientId)) throw new ValidationError('clientId', CLIENT_ID_RULE);
  const grants = [...new Set(def.grants)];
  const code = grants.includes('authorization_code');
  if (grants.includes('refresh_token') && !code) throw new ValidationError('grants', 'refresh_token needs authorization_code');
  if (!grants.length && !def.introspect) throw new ValidationError('grants', 'a client needs at least one grant, or introspect');
  if (def.introspect && !def.secretDigest) throw new ValidationError('introspect', 'only a confidential client (one with a secret) may introspect');
  if (code && !def.redirectPatterns.length) throw new ValidationError('redirectUris', 'at least one is needed for authorization_code');
  if (!code && def.redirectPatterns.length) throw new ValidationError('redirectUris', 'only a client with the authorization_code grant has redirect URIs');

  const redirectUris = expand('redirectUris', def.redirectPatterns, ctx);
  const postLogoutUris = expand('postLogoutRedirectUris', def.postLogoutRedirectPatterns, ctx);
  let applicationType: 'web' | 'native';
  try {
    applicationType = applicationTypeFor([...redirectUris, ...postLogoutUris]);
  } catch (err) {
    throw new ValidationError('redirectUris', (err as Error).message);
  }

  return {
    client_id: def.clientId,
    client_name: def.name,
    application_type: applicationType,
    // Operators' clients authenticate with their secret in the header or the body; the provider's
    // `client_secret_basic` accepts both. The JWT methods would need the plaintext secret as a key.
    ...(def.secretDigest
      ? { token_endpoint_auth_method: 'client_secret_basic', client_secret: def.secretDigest }
      : { token_endpoint_auth_method: 'none' }),
    grant_types: grants,
    response_types: code ? ['code'] : [],
    scope: normalizeScope(def.scope),
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutUris,
    first_party: def.firstParty,
    introspect: def.introspect,
    pkce_required: def.pkceRequired,
    redirect_patterns: def.redirectPatterns,
    post_logout_redirect_patterns: def.postLogoutRedirectPatterns,
  };
}
