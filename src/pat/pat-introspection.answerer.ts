import type { Logger } from 'pino';
import { UnavailableError } from '../errors/app-error.ts';
import type { IntrospectionAnswerer } from '../oidc/introspection.fast-path.ts';
import { OIDC_PREFIX } from '../oidc/provider.ts';
import { patIntrospectionBody } from './pat-introspection.ts';
import type { PatService } from './pat.service.ts';
import { looksLikePat } from './token-format.ts';

// SPEC §6.4 on the hot path: a resource server introspecting a PAT, answered before the provider
// (oidc/introspection.fast-path.ts). The provider would answer the same object, through
// pat-introspection.ts, after three lookups for the token kinds it knows.

export function patIntrospectionAnswerer(deps: { pats: Pick<PatService, 'verify'>; log: Logger }): IntrospectionAnswerer {
  return {
    takes: looksLikePat,
    async answer(token, provider) {
      let pat: Awaited<ReturnType<PatService['verify']>>;
      try {
        // The resource server introspects because the holder just presented the token: that is a use.
        // The holder's address is not known here, so the last known one is kept.
        pat = await deps.pats.verify(token, null);
      } catch (err) {
        // Whatever failed, the answer is "ask again", never `active: false` (as in pat-introspection.ts).
        deps.log.error({ err, route: `${OIDC_PREFIX}/oauth2/introspect` }, 'PAT introspection failed');
        throw new UnavailableError('the token store is unavailable');
      }
      return pat ? patIntrospectionBody(pat, provider.issuer) : { active: false };
    },
  };
}
