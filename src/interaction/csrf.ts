import { createHmac, timingSafeEqual } from 'node:crypto';

// The forms of an interaction carry a token bound to its uid and keyed by our cookie key. The
// interaction cookie is SameSite=Lax already; this is the second, explicit line (OWASP's
// synchronizer-token pattern without server state).

export function csrfToken(key: string, uid: string): string {
  return createHmac('sha256', key).update(`csrf:${uid}`).digest('base64url');
}

export function csrfValid(key: string, uid: string, token: unknown): boolean {
  if (typeof token !== 'string') return false;
  const expected = Buffer.from(csrfToken(key, uid));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
