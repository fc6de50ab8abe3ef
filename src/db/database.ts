import type { AuditEventsTable } from '../audit/audit.table.ts';
import type { ClientsTable } from '../clients/clients.table.ts';
import type { LoginFailuresTable, UsersTable } from '../accounts/users.table.ts';
import type { CookieKeysTable, SigningKeysTable } from '../oidc/keys.table.ts';
import type { OidcModelsTable } from '../oidc/oidc-models.table.ts';
import type { PatChangesTable, PatUsesTable, PersonalAccessTokenNodesTable, PersonalAccessTokensTable } from '../pat/pat.table.ts';

/** Every table, as kysely sees it. Each area declares its own tables beside its repository. */
export interface Database {
  oidc_models: OidcModelsTable;
  signing_keys: SigningKeysTable;
  cookie_keys: CookieKeysTable;
  users: UsersTable;
  login_failures: LoginFailuresTable;
  clients: ClientsTable;
  audit_events: AuditEventsTable;
  personal_access_tokens: PersonalAccessTokensTable;
  personal_access_token_nodes: PersonalAccessTokenNodesTable;
  pat_changes: PatChangesTable;
  pat_uses: PatUsesTable;
}
