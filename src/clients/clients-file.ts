import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../errors/app-error.ts';
import { DEFAULT_SCOPE, GRANTS, toProviderMetadata, type ClientDefinition, type Grant } from './client-definition.ts';
import { definitionFromInput, MIN_SECRET_LENGTH, parseInput, registerClientInput } from './clients.schemas.ts';
import { digestClientSecret } from './client-secret.ts';
import { DEFAULT_CLIENTS } from './default-clients.ts';
import type { PlaceholderContext } from './redirect-rules.ts';

// The operator's clients file (`clientsFile`), JSON or YAML, in one of three shapes:
//   - Cells' own `staticClients` list, as an array or as `{ staticClients: [...] }`, so that an operator
//     can paste the one from pydio.json;
//   - ours, `{ clients: [...] }`, with the fields of `cells-auth admin client create` (clients.schemas.ts).
// A bad file stops the start with one line naming the client and the problem.

export class ClientsFileError extends Error {
  override name = 'ClientsFileError';
}

export interface ParsedClientsFile {
  definitions: ClientDefinition[];
  /** Harmless oddities (Cells fields we do not use), for the log. */
  warnings: string[];
}

const cellsEntry = z.looseObject({
  client_id: z.string().min(1),
  client_name: z.string().min(1).max(200).optional(),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  redirect_uris: z.array(z.string()).optional(),
  post_logout_redirect_uris: z.array(z.string()).optional(),
  scope: z.string().optional(),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  client_secret: z.string().min(MIN_SECRET_LENGTH).max(512).optional(),
  // Ours, accepted beside Cells' fields.
  first_party: z.boolean().optional(),
  pkce_required: z.boolean().optional(),
  introspect: z.boolean().optional(),
});
const CELLS_FIELDS = new Set(Object.keys(cellsEntry.shape));

// Our field names → Cells' ones, so that an error about a Cells entry names the field as written.
const CELLS_NAMES: Record<string, string> = {
  clientId: 'client_id',
  name: 'client_name',
  grants: 'grant_types',
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  secret: 'client_secret',
};

function cellsDefinition(raw: unknown, warnings: string[]): ClientDefinition {
  const e = parseInput(cellsEntry, raw, 'client');
  for (const key of Object.keys(e)) if (!CELLS_FIELDS.has(key)) warnings.push(`client "${e.client_id}": ignoring field ${key}`);

  const grants = e.grant_types ?? ['authorization_code', 'refresh_token'];
  const unsupported = grants.find((g) => !(GRANTS as readonly string[]).includes(g));
  if (unsupported) throw new ValidationError('grant_types', `"${unsupported}" is not supported (supported: ${GRANTS.join(', ')})`);
  // Cells lists `code token id_token`; only the code flow is served, so the list narrows to `code`.
  if (e.response_types && !e.response_types.some((t) => t.split(' ').includes('code'))) {
    throw new ValidationError('response_types', 'only code is supported');
  }
  const method = e.token_endpoint_auth_method ?? (e.client_secret ? 'client_secret_basic' : 'none');
  if (method === 'none' && e.client_secret) throw new ValidationError('client_secret', 'a client with token_endpoint_auth_method none has no secret');
  if (method !== 'none' && !e.client_secret) throw new ValidationError('client_secret', `required for ${method}`);

  const known = DEFAULT_CLIENTS.find((d) => d.clientId === e.client_id);
  return {
    clientId: e.client_id,
    name: e.client_name ?? known?.name ?? e.client_id,
    redirectPatterns: e.redirect_uris ?? [],
    postLogoutRedirectPatterns: e.post_logout_redirect_uris ?? [],
    grants: grants as Grant[],
    scope: e.scope ?? DEFAULT_SCOPE,
    // Cells never shows a consent screen: its clients are first-party unless the entry says otherwise.
    firstParty: e.first_party ?? true,
    introspect: e.introspect ?? false,
    // Cells' shape cannot say whether PKCE is required; for the Cells clients we know what the
    // software sends (SPEC §2), any other is optional as in Cells.
    pkceRequired: e.pkce_required ?? known?.pkceRequired ?? false,
    ...(e.client_secret ? { secretDigest: digestClientSecret(e.client_secret) } : {}),
  };
}

function ourDefinition(raw: unknown): ClientDefinition {
  const input = parseInput(registerClientInput, raw, 'client');
  // A file cannot show a generated secret once: a confidential client brings its own.
  if (!input.public && input.secret === undefined) throw new ValidationError('secret', 'required for a confidential client in a file (or set public: true)');
  return definitionFromInput(input, input.secret === undefined ? undefined : digestClientSecret(input.secret));
}

function entriesOf(doc: unknown): { entries: unknown[]; cells: boolean } {
  if (doc == null) return { entries: [], cells: false };
  if (Array.isArray(doc)) return { entries: doc, cells: true };
  if (typeof doc === 'object') {
    const keys = Object.keys(doc);
    const o = doc as Record<string, unknown>;
    if (keys.length === 1 && Array.isArray(o.staticClients)) return { entries: o.staticClients, cells: true };
    if (keys.length === 1 && Array.isArray(o.clients)) return { entries: o.clients, cells: false };
  }
  throw new ClientsFileError('expected a list of clients, { staticClients: [...] } (Cells) or { clients: [...] }');
}

function labelOf(raw: unknown, index: number, cells: boolean): string {
  const id = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[cells ? 'client_id' : 'clientId'] : undefined;
  return typeof id === 'string' && id ? `client "${id}"` : `client #${index + 1}`;
}

/** Turns a parsed document into checked definitions (their redirect URIs expanded once to prove them). */
export function parseClientsDocument(doc: unknown, ctx: PlaceholderContext): ParsedClientsFile {
  const { entries, cells } = entriesOf(doc);
  const warnings: string[] = [];
  const definitions: ClientDefinition[] = [];
  const seen = new Set<string>();
  entries.forEach((raw, i) => {
    const label = labelOf(raw, i, cells);
    try {
      const def = cells ? cellsDefinition(raw, warnings) : ourDefinition(raw);
      if (seen.has(def.clientId)) throw new ClientsFileError(`${label}: listed twice`);
      seen.add(def.clientId);
      toProviderMetadata(def, ctx);
      definitions.push(def);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const field = cells ? (CELLS_NAMES[err.field] ?? err.field) : err.field;
      throw new ClientsFileError(`${label}: ${field}: ${err.reason}`);
    }
  });
  return { definitions, warnings };
}

/** Reads and checks the clients file; every failure is one line that names the file. */
export function readClientsFile(path: string, ctx: PlaceholderContext): ParsedClientsFile {
  const fail = (why: string): never => {
    throw new ClientsFileError(`clients file ${path}: ${why}`);
  };
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let doc: unknown;
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    doc = parseYaml(text);
  } catch (err) {
    fail(`not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return parseClientsDocument(doc, ctx);
  } catch (err) {
    if (err instanceof ClientsFileError) fail(err.message);
    throw err;
  }
}
