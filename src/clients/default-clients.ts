import { DEFAULT_SCOPE, toProviderMetadata, type CellsClientMetadata, type ClientDefinition } from './client-definition.ts';
import type { PlaceholderContext } from './redirect-rules.ts';

export { DEFAULT_SCOPE, type CellsClientExtras, type CellsClientMetadata } from './client-definition.ts';

type DefaultClient = Pick<ClientDefinition, 'clientId' | 'name' | 'redirectPatterns' | 'pkceRequired'>;

// SPEC §2: the documented URIs and the ones the real clients send are both accepted.
const DEFAULTS: DefaultClient[] = [
  {
    clientId: 'cells-sync',
    name: 'CellsSync Application',
    redirectPatterns: [
      'http://localhost:[3636-3666]',
      'http://localhost:[3636-3666]/servers/callback',
      'http://localhost:3000',
      'http://localhost:3000/servers/callback',
    ],
    // The desktop client always sends PKCE.
    pkceRequired: true,
  },
  {
    clientId: 'cells-mobile',
    name: 'Cells Mobile Applications',
    redirectPatterns: ['cellsauth://serverName', 'cellsauth://callback'],
    pkceRequired: false,
  },
  {
    clientId: 'cells-client',
    name: 'Cells Client CLI Tool',
    redirectPatterns: ['http://localhost:3636', 'http://localhost:3000/servers/callback', '#binds...#/oauth/oob', '#binds...#/oauth2/oob'],
    // `cec` sends no PKCE.
    pkceRequired: false,
  },
];

/** The default Cells clients: public, first-party (Cells never shows a consent screen). */
export const DEFAULT_CLIENTS: ClientDefinition[] = DEFAULTS.map((d) => ({
  ...d,
  postLogoutRedirectPatterns: [],
  grants: ['authorization_code', 'refresh_token'],
  scope: DEFAULT_SCOPE,
  firstParty: true,
  introspect: false,
}));

export function defaultClients(ctx: PlaceholderContext): CellsClientMetadata[] {
  return DEFAULT_CLIENTS.map((def) => toProviderMetadata(def, ctx));
}
