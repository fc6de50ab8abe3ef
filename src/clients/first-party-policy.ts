import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { CellsClientExtras } from './client-definition.ts';

const { Check, base } = interactionPolicy;

export function isFirstParty(client: unknown): boolean {
  return Boolean((client as CellsClientExtras | undefined)?.first_party);
}

// Consent checks of the provider's default policy that first-party clients skip:
// - `native_client_prompt`: oidc-provider asks every native client for an interaction (RFC 8252 §8.6:
//   any app can claim a custom scheme), but Cells' mobile app is first-party and never sees a consent
//   screen in Cells;
// - `consent_prompt`: a first-party client that sends `prompt=consent` (the usual way to ask for
//   `offline_access`) would otherwise be shown one, which Cells never does either.
// Missing scopes are covered by loadExistingGrant (provider.ts), which grants a first-party client what
// it asks for. Every other client keeps every check.
const SKIPPED_FOR_FIRST_PARTY = ['native_client_prompt', 'consent_prompt'];

/** The given policy (the provider's default prompts, possibly extended), with those checks wrapped. */
export function withFirstPartyConsent(policy: interactionPolicy.DefaultPolicy = base()): interactionPolicy.DefaultPolicy {
  const checks = policy.get('consent')!.checks;
  for (const reason of SKIPPED_FOR_FIRST_PARTY) {
    const original = checks.get(reason);
    if (!original) throw new Error(`oidc-provider no longer has the ${reason} check: review withFirstPartyConsent`);
    const at = checks.indexOf(original);
    const check = (ctx: KoaContextWithOIDC) => (isFirstParty(ctx.oidc.client) ? Check.NO_NEED_TO_PROMPT : original.check(ctx));
    checks.remove(reason);
    checks.add(new Check(reason, original.description, original.error ?? 'consent_required', check, original.details), at);
  }
  return policy;
}
