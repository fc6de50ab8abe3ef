import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { CellsClientMetadata } from '../clients/default-clients.ts';
import { OIDC_PREFIX } from '../oidc/provider.ts';
import type { PatService } from './pat.service.ts';
import { formatScope } from './scopes.ts';
import { looksLikePat } from './token-format.ts';

// SPEC §6.4: RFC 7662 introspection that understands PATs. The provider runs the endpoint as usual —
// client authentication and all — and knows nothing of PATs, so it answers `active: false`; this
// middleware then answers for a PAT instead. A storage failure is a 503, never `active: false`.

/** The RFC 7662 answer for a good PAT; `node_grants` is ours (the nodes it is limited to, if any). */
export function patIntrospectionBody(pat: NonNullable<Awaited<ReturnType<PatService['verify']>>>, issuer: string) {
  const scope = pat.grants.map(formatScope).join(' ');
  return {
    active: true,
    sub: pat.userId,
    username: pat.login,
    exp: Math.floor(pat.expiresAt.getTime() / 1000),
    iat: Math.floor(pat.createdAt.getTime() / 1000),
    iss: issuer,
    scope: scope || undefined,
    token_type: 'Bearer',
    token_kind: 'personal_access_token',
    node_grants: pat.grants,
  };
}

export function patIntrospection(deps: { pats: Pick<PatService, 'verify'>; log: Logger }) {
  return async function patIntrospection(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'introspection' || ctx.status !== 200) return;
    const body = ctx.body as { active?: unknown } | undefined;
    const token = oidc.params?.token;
    if (body?.active !== false || typeof token !== 'string' || !looksLikePat(token)) return;
    // The provider authenticated the client; whether it may introspect is the same rule as for
    // access tokens (allowedPolicy in provider.ts): only clients marked `introspect`.
    if (!(oidc.client as unknown as CellsClientMetadata | undefined)?.introspect) return;
    try {
      // The resource server introspects because the holder just presented the token: that is a use.
      // The holder's address is not known here, so the last known one is kept.
      const pat = await deps.pats.verify(token, null);
      if (pat) ctx.body = patIntrospectionBody(pat, oidc.provider.issuer);
    } catch (err) {
      deps.log.error({ err, route: `${OIDC_PREFIX}/oauth2/introspect` }, 'PAT introspection failed');
      ctx.status = 503;
      ctx.set('retry-after', '1');
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the token store is unavailable' };
    }
  };
}
