import { interactionPolicy } from 'oidc-provider';
import type { CellsClientExtras } from './client-definition.ts';

const { Check, base } = interactionPolicy;

export function isFirstParty(client: unknown): boolean {
  return Boolean((client as CellsClientExtras | undefined)?.first_party);
}

/**
 * The provider's default prompts, but a first-party client is not asked for an interaction just for
 * being native. oidc-provider asks every native client for one (RFC 8252 §8.6: any app can claim a
 * custom scheme), while SPEC §2 says Cells' mobile app, first-party, never sees a consent screen as in
 * Cells. Every other native client keeps the check.
 */
export function cellsInteractionPolicy(): interactionPolicy.DefaultPolicy {
  const policy = base();
  const checks = policy.get('consent')!.checks;
  const native = checks.get('native_client_prompt');
  if (!native) throw new Error('oidc-provider no longer has the native_client_prompt check: review cellsInteractionPolicy');
  const at = checks.indexOf(native);
  checks.remove(native.reason);
  checks.add(
    new Check(native.reason, native.description, native.error ?? 'consent_required', (ctx) => (isFirstParty(ctx.oidc.client) ? Check.NO_NEED_TO_PROMPT : native.check(ctx)), native.details),
    at,
  );
  return policy;
}
