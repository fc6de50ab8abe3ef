import type { ClientMetadata } from 'oidc-provider';
import { expandRedirectPatterns, type PlaceholderContext } from './redirect-rules.ts';

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
}

export type CellsClientMetadata = ClientMetadata & CellsClientExtras;

export const DEFAULT_SCOPE = 'openid email profile pydio offline offline_access';

export interface ClientDefinition {
  client_id: string;
  client_name: string;
  redirect_patterns: string[];
  post_logout_redirect_patterns?: string[];
  pkce_required: boolean;
}

// SPEC §2: the documented URIs and the ones the real clients send are both accepted.
export const DEFAULT_CLIENTS: ClientDefinition[] = [
  {
    client_id: 'cells-sync',
    client_name: 'CellsSync Application',
    redirect_patterns: [
      'http://localhost:[3636-3666]',
      'http://localhost:[3636-3666]/servers/callback',
      'http://localhost:3000',
      'http://localhost:3000/servers/callback',
    ],
    // The desktop client always sends PKCE.
    pkce_required: true,
  },
  {
    client_id: 'cells-mobile',
    client_name: 'Cells Mobile Applications',
    redirect_patterns: ['cellsauth://serverName', 'cellsauth://callback'],
    pkce_required: false,
  },
  {
    client_id: 'cells-client',
    client_name: 'Cells Client CLI Tool',
    redirect_patterns: ['http://localhost:3636', 'http://localhost:3000/servers/callback', '#binds...#/oauth/oob', '#binds...#/oauth2/oob'],
    // `cec` sends no PKCE.
    pkce_required: false,
  },
];

/** The provider metadata of a public, first-party Cells client. */
export function publicClientMetadata(def: ClientDefinition, ctx: PlaceholderContext): CellsClientMetadata {
  return {
    client_id: def.client_id,
    client_name: def.client_name,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: DEFAULT_SCOPE,
    redirect_uris: expandRedirectPatterns(def.redirect_patterns, ctx),
    post_logout_redirect_uris: expandRedirectPatterns(def.post_logout_redirect_patterns ?? [], ctx),
    first_party: true,
    pkce_required: def.pkce_required,
    redirect_patterns: def.redirect_patterns,
  };
}

export function defaultClients(ctx: PlaceholderContext): CellsClientMetadata[] {
  return DEFAULT_CLIENTS.map((def) => publicClientMetadata(def, ctx));
}
