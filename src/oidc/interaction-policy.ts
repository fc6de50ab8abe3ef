import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

const { base, Check } = interactionPolicy;

/**
 * The provider's default prompts (login, then consent) with one more login check. findAccount hides a
 * locked or deleted account, but the provider's own login checks look only at the session's account
 * id: a browser session of an account locked since would skip the login prompt and then fail inside
 * the consent checks (a 500). Asking for a login instead shows the form, and `prompt=none` answers
 * `login_required` (OIDC Core §3.1.2.6).
 */
export function interactionPolicyWithAccountCheck() {
  const policy = base();
  policy.get('login')!.checks.push(
    // The error is named here: the prompt fills in `login_required` only for the checks it was built with.
    new Check('account_unavailable', 'the signed-in account can no longer sign in', 'login_required', (ctx: KoaContextWithOIDC) =>
      Boolean(ctx.oidc.session?.accountId) && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );
  return policy;
}
