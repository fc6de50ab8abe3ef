import type { ClientView } from '../clients/clients.schemas.ts';

/** What the audit trail keeps of a registered client: its shape, never its secret (a view has none). */
export function clientAuditDetails(c: ClientView): Record<string, unknown> {
  return { name: c.name, type: c.type, firstParty: c.firstParty, introspect: c.introspect, grants: c.grants, redirectUris: c.redirectUris };
}
