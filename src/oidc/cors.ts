import type { KoaContextWithOIDC } from 'oidc-provider';

/** True for http://localhost, 127.0.0.1 or [::1] on any port (the native Cells clients' pages). */
export function isLoopbackOrigin(origin: string): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (u.origin !== origin) return false;
  return u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
}

// Public documents that any page may read (RFC 8414 §3 metadata, the JWK set).
const OPEN_PATHS = /^\/\.well-known\//;

/**
 * Provider middleware: only loopback origins get CORS headers (SPEC §1). The provider checks the
 * origin of a real request once it knows the client (`clientBasedCORS`), but it answers every
 * preflight with the requesting origin; here the headers are taken back for any other origin.
 */
export async function loopbackOnlyCors(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  try {
    await next();
  } finally {
    const origin = ctx.get('origin');
    if (origin && !OPEN_PATHS.test(ctx.path) && !isLoopbackOrigin(origin)) {
      for (const name of Object.keys(ctx.response.headers)) {
        if (name.toLowerCase().startsWith('access-control-')) ctx.remove(name);
      }
    }
  }
}
