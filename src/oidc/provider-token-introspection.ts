import type Provider from 'oidc-provider';
import { StoreUnavailableError } from './adapter.ts';
import type { IntrospectingClient, IntrospectionAnswerer } from './introspection.fast-path.ts';
import type { RequestStore } from './request-store.ts';

// RFC 7662 introspection of the provider's own opaque tokens, answered before the provider
// (introspection.fast-path.ts). The lookups, checks and answer are the provider's own
// (lib/helpers/token_find.js, lib/actions/introspection.js renderTokenResponse), read through its
// models: the token is asked for as an access token and as a refresh token at once (one statement,
// with its grant: adapter.ts), as the provider does without a type hint — and with one, which only
// orders its lookups, and a value is never both. Client-credentials tokens are not issued here
// (clients.schemas.ts refuses that grant). Left to the provider, which answers in its own words:
// a sender-constrained token (DPoP, mTLS: its answer carries `cnf`), one with authorization
// details, and a pairwise subject.

// The provider's opaque tokens: base64url, 43 characters at its default 256 bits. A JWT has dots.
const OPAQUE = /^[A-Za-z0-9_-]{43}$/;

type Body = Record<string, unknown>;

export function providerTokenIntrospectionAnswerer(deps: { store: Pick<RequestStore, 'run'> }): IntrospectionAnswerer {
  async function answer(value: string, provider: Provider, client: IntrospectingClient): Promise<Body | undefined> {
    const [accessToken, refreshToken] = await Promise.all([provider.AccessToken.find(value), provider.RefreshToken.find(value)]);
    const token = accessToken ?? refreshToken;
    const body: Body = { active: false };
    if (!token?.isValid) return body;
    if (token.isSenderConstrained() || token.rar) return undefined;

    if (token.grantId) {
      // Read with the token, in the same statement (the request store keeps it for this lookup).
      const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
      if (!grant || grant.isExpired || grant.clientId !== token.clientId || grant.accountId !== token.accountId) return body;
    }

    if (token.accountId) {
      const owner = token.clientId === client.clientId ? client : await provider.Client.find(token.clientId!);
      // A token whose client is gone (deleted, dropped from the clients file) is good for nothing;
      // the provider would fail on it with a 500.
      if (!owner) return body;
      // Pairwise subjects are the provider's to compute.
      if (owner.subjectType !== 'public') return undefined;
      body.sub = token.accountId;
    }

    // Key for key what the provider assigns (undefined values are left out of the JSON alike).
    return Object.assign(body, {
      ...accessToken?.extra,
      active: true,
      client_id: token.clientId,
      exp: token.exp,
      iat: token.iat,
      sid: token.sid,
      iss: provider.issuer,
      jti: token.jti !== value ? token.jti : undefined,
      aud: accessToken?.aud,
      scope: token.scope || undefined,
      token_type: token.kind !== 'RefreshToken' ? token.tokenType : undefined,
    });
  }

  return {
    takes: (token) => OPAQUE.test(token),
    async answer(value, provider, client) {
      try {
        return await deps.store.run(() => answer(value, provider, client));
      } catch (err) {
        // Never `active: false`: the provider's way tries once more, and answers 503
        // `temporarily_unavailable` if the store is still down.
        if (err instanceof StoreUnavailableError) return undefined;
        throw err;
      }
    },
  };
}
