import type { FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { UnauthorizedError } from '../errors/app-error.ts';

/** Who the caller is, for routes that only show more to a known caller. */
export type CallerCheck = (request: FastifyRequest) => Promise<{ sub: string } | undefined>;

// RFC 6750 §2.1: b64token. Anything longer than any token we issue is refused before a lookup.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_TOKEN = 2048;

/**
 * The caller of a `Authorization: Bearer <access token>` request, when the provider issued that token
 * and it is still valid (unexpired, its session alive when bound to one). No Authorization header, or
 * another scheme: an anonymous caller (undefined). A Bearer token that is not (or no longer) valid:
 * 401 invalid_token (RFC 6750 §3.1), so a client learns that its token must be refreshed.
 */
export function oidcAccessTokenCaller(provider: () => Provider): CallerCheck {
  return async (request) => {
    const header = request.headers.authorization;
    if (!header || !/^bearer(\s|$)/i.test(header)) return undefined;
    const m = BEARER.exec(header);
    const invalid = new UnauthorizedError('the access token is invalid or has expired', 'invalid_token', 'Bearer realm="cells-auth", error="invalid_token"');
    if (!m || m[1]!.length > MAX_TOKEN) throw invalid;
    const token = await provider().AccessToken.find(m[1]!);
    if (!token?.accountId) throw invalid;
    return { sub: token.accountId };
  };
}
