import { toProviderMetadata, type CellsClientMetadata, type ClientDefinition } from './client-definition.ts';
import { readClientsFile } from './clients-file.ts';
import { DEFAULT_CLIENTS } from './default-clients.ts';
import type { PlaceholderContext } from './redirect-rules.ts';

/** A client that comes from configuration: the same on every instance, never stored. */
export interface StaticClient {
  source: 'default' | 'file';
  definition: ClientDefinition;
  metadata: CellsClientMetadata;
}

/**
 * The default clients, then the clients file: a file client with the id of a default client replaces
 * it (an operator who pastes Cells' list gets exactly that list's URIs), the others are added.
 */
export function loadStaticClients(opts: PlaceholderContext & { clientsFile?: string }): { clients: StaticClient[]; warnings: string[] } {
  const ctx = { publicUrls: opts.publicUrls };
  const file = opts.clientsFile ? readClientsFile(opts.clientsFile, ctx) : { definitions: [], warnings: [] };
  const byId = new Map<string, StaticClient>();
  for (const definition of DEFAULT_CLIENTS) byId.set(definition.clientId, { source: 'default', definition, metadata: toProviderMetadata(definition, ctx) });
  for (const definition of file.definitions) byId.set(definition.clientId, { source: 'file', definition, metadata: toProviderMetadata(definition, ctx) });
  return { clients: [...byId.values()], warnings: file.warnings };
}
