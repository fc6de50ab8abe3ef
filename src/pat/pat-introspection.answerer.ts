import type { IntrospectionAnswerer } from '../oidc/introspection.fast-path.ts';
import { patIntrospectionBody } from './pat-introspection.ts';
import type { PatService } from './pat.service.ts';
import { looksLikePat } from './token-format.ts';

// SPEC §6.4 on the hot path: a resource server introspecting a PAT, answered before the provider
// (oidc/introspection.fast-path.ts). The provider would answer the same object, through
// pat-introspection.ts, after three lookups for the token kinds it knows.

export function patIntrospectionAnswerer(deps: { pats: Pick<PatService, 'verify' | 'verifyKept'> }): IntrospectionAnswerer {
  return {
    takes: looksLikePat,
    async answer(token, provider) {
      let pat: Awaited<ReturnType<PatService['verify']>>;
      try {
        // The resource server introspects because the holder just presented the token: that is a use.
        // The holder's address is not known here, so the last known one is kept.
        pat = await deps.pats.verify(token, null);
      } catch {
        // Whatever failed, the answer is "ask again", never `active: false`: the provider's way
        // (pat-introspection.ts) tries once more, and answers 503 and logs it if the store is still down.
        return undefined;
      }
      return pat ? patIntrospectionBody(pat, provider.issuer) : { active: false };
    },
    answerKept(token, provider) {
      // The same use, noted the same way (PatService.verifyKept); anything memory cannot say is `answer`'s.
      const pat = deps.pats.verifyKept(token, null);
      return pat && patIntrospectionBody(pat, provider.issuer);
    },
  };
}
