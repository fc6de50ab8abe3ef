import type { AdapterPayload } from 'oidc-provider';
import type { Logger } from 'pino';
import { ConflictError, NotFoundError } from '../errors/app-error.ts';
import { CLIENT_ID_PATTERN, toProviderMetadata, type CellsClientMetadata } from './client-definition.ts';
import { digestClientSecret, generateClientSecret } from './client-secret.ts';
import type { ClientRow, ClientsRepository } from './clients.repository.ts';
import { clientIdParam, definitionFromInput, parseInput, registerClientInput, type ClientView, type RegisterClientInput } from './clients.schemas.ts';
import { expandRedirectPatterns, type PlaceholderContext } from './redirect-rules.ts';
import type { StaticClient } from './static-clients.ts';

// Operators' clients: registered in the `clients` table, served to the provider through the adapter
// (model `Client`). HTTP-free, so the CLI and the admin API share it; inputs are checked with the
// zod schemas of clients.schemas.ts and every refusal is a ValidationError naming the field.

export interface RegisteredClient {
  client: ClientView;
  /** The plaintext secret, present only when it was just generated: shown once, never stored. */
  secret?: string;
}

export function toClientView(m: CellsClientMetadata, source: ClientView['source'], createdAt: Date | null): ClientView {
  return {
    clientId: m.client_id,
    name: m.client_name ?? m.client_id,
    source,
    type: m.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    firstParty: Boolean(m.first_party),
    introspect: Boolean(m.introspect),
    pkceRequired: Boolean(m.pkce_required),
    grants: [...(m.grant_types ?? [])],
    redirectUris: [...(m.redirect_patterns ?? m.redirect_uris ?? [])],
    postLogoutRedirectUris: [...(m.post_logout_redirect_patterns ?? m.post_logout_redirect_uris ?? [])],
    scope: m.scope ?? '',
    createdAt: createdAt ? createdAt.toISOString() : null,
  };
}

export function createClientsService(deps: { repo: ClientsRepository; staticClients: StaticClient[]; placeholders: PlaceholderContext; log: Logger }) {
  const { repo, staticClients, placeholders, log } = deps;
  const statics = new Map(staticClients.map((c) => [c.metadata.client_id, c]));
  const rowView = (row: ClientRow) => toClientView(row.metadata as CellsClientMetadata, 'database', row.created_at);

  function refuseStatic(clientId: string, what: string): void {
    const s = statics.get(clientId);
    if (s) throw new ConflictError(`client "${clientId}" is a ${s.source === 'default' ? 'default client' : 'client of the clients file'}: ${what}`);
  }

  async function register(input: RegisterClientInput): Promise<RegisteredClient> {
    const parsed = parseInput(registerClientInput, input);
    refuseStatic(parsed.clientId, 'choose another id');
    const secret = parsed.public ? undefined : (parsed.secret ?? generateClientSecret());
    const definition = definitionFromInput(parsed, secret === undefined ? undefined : digestClientSecret(secret));
    const metadata = toProviderMetadata(definition, placeholders);
    const row = await repo.insert({ clientId: definition.clientId, metadata, firstParty: definition.firstParty, introspect: definition.introspect });
    if (!row) throw new ConflictError(`a client with id "${definition.clientId}" already exists`);
    log.info({ clientId: definition.clientId, type: parsed.public ? 'public' : 'confidential' }, 'client registered');
    return { client: rowView(row), ...(parsed.secret === undefined && secret ? { secret } : {}) };
  }

  /** Configuration clients first (defaults, then the file), then the registered ones. */
  async function list(): Promise<ClientView[]> {
    const stored = await repo.list();
    return [...staticClients.map((c) => toClientView(c.metadata, c.source, null)), ...stored.map(rowView)];
  }

  async function get(clientId: string): Promise<ClientView> {
    const s = statics.get(clientId);
    if (s) return toClientView(s.metadata, s.source, null);
    const row = await repo.find(parseInput(clientIdParam, clientId, 'clientId'));
    if (!row) throw new NotFoundError(`no client "${clientId}"`);
    return rowView(row);
  }

  async function remove(clientId: string): Promise<void> {
    refuseStatic(clientId, 'it comes from configuration and cannot be deleted');
    const gone = await repo.delete(parseInput(clientIdParam, clientId, 'clientId'));
    if (!gone) throw new NotFoundError(`no client "${clientId}"`);
    log.info({ clientId }, 'client deleted');
  }

  /** A new generated secret for a confidential client; the old one stops working at once. */
  async function rotateSecret(clientId: string): Promise<RegisteredClient & { secret: string }> {
    refuseStatic(clientId, 'its secret is set in configuration');
    const row = await repo.find(parseInput(clientIdParam, clientId, 'clientId'));
    if (!row) throw new NotFoundError(`no client "${clientId}"`);
    const metadata = row.metadata as CellsClientMetadata;
    if (metadata.token_endpoint_auth_method === 'none') throw new ConflictError(`client "${clientId}" is public: it has no secret`);
    const secret = generateClientSecret();
    const updated = await repo.update({ clientId, metadata: { ...metadata, client_secret: digestClientSecret(secret) }, firstParty: row.first_party, introspect: row.introspect });
    if (!updated) throw new NotFoundError(`no client "${clientId}"`);
    log.info({ clientId }, 'client secret rotated');
    return { client: rowView(updated), secret };
  }

  /**
   * What the provider's adapter serves for model `Client`. The redirect URIs are expanded again from
   * the registered patterns, so that placeholders follow a changed public URL.
   */
  async function providerMetadata(clientId: string): Promise<AdapterPayload | undefined> {
    // An id no registration could have is not looked up.
    if (!CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const row = await repo.find(clientId);
    if (!row) return undefined;
    const m = row.metadata as CellsClientMetadata;
    try {
      return {
        ...m,
        redirect_uris: expandRedirectPatterns(m.redirect_patterns ?? [], placeholders),
        post_logout_redirect_uris: expandRedirectPatterns(m.post_logout_redirect_patterns ?? [], placeholders),
      } as AdapterPayload;
    } catch (err) {
      // Patterns were checked at registration; keep serving the stored expansion rather than lock the client out.
      log.warn({ err, clientId }, 'could not expand the redirect URIs of a client; using the stored ones');
      return m as AdapterPayload;
    }
  }

  return { register, list, get, remove, rotateSecret, providerMetadata };
}

export type ClientsService = ReturnType<typeof createClientsService>;
