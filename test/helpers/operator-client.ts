import { createClientsRepository } from '../../src/clients/clients.repository.ts';
import { DEFAULT_SCOPE } from '../../src/clients/default-clients.ts';
import type { AppContext } from '../../src/context.ts';

export interface OperatorClientFixture {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  first_party?: boolean;
}

/**
 * A fixture: a public client an operator registered, stored in the clients table. The URIs are also
 * written as `*_patterns` (the registered form, which the stored metadata keeps beside the expansion).
 */
export async function registerOperatorClient(ctx: AppContext, metadata: OperatorClientFixture): Promise<void> {
  const full = {
    redirect_patterns: metadata.redirect_uris,
    post_logout_redirect_patterns: metadata.post_logout_redirect_uris ?? [],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: DEFAULT_SCOPE,
    first_party: false,
    ...metadata,
  };
  const row = await createClientsRepository(ctx.db.db).insert({ clientId: metadata.client_id, metadata: full, firstParty: Boolean(full.first_party), introspect: false });
  if (!row) throw new Error(`client ${metadata.client_id} exists already`);
}
