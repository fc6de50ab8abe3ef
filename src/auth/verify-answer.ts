import type { Principal } from './principal.ts';

// What a good forward-auth check answers (SPEC §6.5), in one place for the route
// (verify.routes.ts) and its fast path (verify.fast-path.ts), whose answers must be the same bytes.

/** The identity headers a proxy copies onto the request it forwards, in the order they are sent. */
export function identityHeaders(principal: Principal): Record<string, string> {
  return { 'x-auth-user': principal.login, 'x-auth-subject': principal.userId, 'x-auth-scopes': principal.scope };
}

/** The body, its fields in the order of the route's response schema. */
export function verifyBody(principal: Principal) {
  return { active: true as const, sub: principal.userId, username: principal.login, via: principal.via, scope: principal.scope };
}
