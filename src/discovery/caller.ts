import type { FastifyRequest } from 'fastify';
import type { BearerAuth } from '../auth/bearer.ts';

/** Who the caller is, for routes that only show more to a known caller. */
export type CallerCheck = (request: FastifyRequest) => Promise<{ sub: string } | undefined>;

/**
 * No bearer credential: an anonymous caller (undefined). A bearer credential (an access token or
 * a personal access token) that is valid: its user. One that is not: 401 invalid_token (RFC 6750
 * §3.1), so a client learns that its token must be refreshed.
 */
export function bearerCaller(auth: BearerAuth): CallerCheck {
  return async (request) => {
    const header = request.headers.authorization;
    // Only a bearer credential identifies a caller here; another scheme is anonymous.
    if (!header || !/^bearer(\s|$)/i.test(header)) return undefined;
    const principal = await auth.authenticate(header, { address: request.ip });
    return { sub: principal.userId };
  };
}
