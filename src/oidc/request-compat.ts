import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

// What real Cells clients send that oidc-provider would refuse as written, rewritten before the
// provider reads the request (SPEC §2):
// 1. a public client sending `Authorization: Basic base64(client_id:)` with an empty secret (Go's
//    oauth2 library, oidc-agent, Postman) is treated as sending `client_id` in the body;
// 2. `offline_access` without `prompt=consent` (OIDC Core §11 lets the provider drop it, and
//    oidc-provider does) also asks for `offline`, so that it still yields a refresh token.

const BODY_LIMIT = 56 * 1024; // the provider's own limit
const CLIENT_AUTH_ROUTES = new Set(['/oauth2/token', '/oauth2/revoke', '/oauth2/introspect']);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new errors.InvalidRequest('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Puts a rewritten body back where the provider reads it (it reads `req` as a stream). */
function replaceBody(req: IncomingMessage, body: Buffer): void {
  req.headers['content-length'] = String(body.length);
  Object.defineProperty(req, 'readable', { value: true, configurable: true });
  Object.defineProperty(req, 'iterator', { value: () => Readable.from([body])[Symbol.asyncIterator](), configurable: true });
}

/** `client_id` of a Basic header whose secret is empty, else undefined. */
export function emptySecretBasicClientId(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0 || i !== decoded.length - 1) return undefined;
  try {
    // RFC 6749 §2.3.1: the id is form-urlencoded inside the header.
    return decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Rewrites the query string. The provider finds its mount path (`/oidc`) by looking for the request URL
 * inside `req.originalUrl` (oidc_context.js `urlFor`); a rewritten URL is no longer in there, and the
 * URLs it builds (the interaction's return address) would lose the prefix. So originalUrl follows.
 */
function setQuery(ctx: KoaContextWithOIDC, query: Record<string, unknown>): void {
  const req = ctx.req as IncomingMessage & { originalUrl?: string };
  const at = req.originalUrl?.indexOf(ctx.url) ?? -1;
  const mount = at > 0 ? req.originalUrl!.slice(0, at) : '';
  ctx.query = query as typeof ctx.query;
  if (req.originalUrl !== undefined) req.originalUrl = mount + ctx.url;
}

function withOffline(scope: string): string {
  const scopes = scope.split(' ');
  return scopes.includes('offline_access') && !scopes.includes('offline') ? `${scope} offline` : scope;
}

export async function requestCompat(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  try {
    await rewrite(ctx);
  } catch (err) {
    // This runs before the provider's routes, whose handlers would otherwise shape the error.
    const e = err instanceof errors.OIDCProviderError ? err : new errors.InvalidRequest('malformed request');
    ctx.status = e.statusCode;
    ctx.body = { error: e.error, error_description: e.error_description };
    return;
  }
  await next();
}

async function rewrite(ctx: KoaContextWithOIDC): Promise<void> {
  const isForm = ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded') !== false;

  if (ctx.path === '/oauth2/auth') {
    const q = ctx.query.scope;
    if (typeof q === 'string' && q.includes('offline_access')) setQuery(ctx, { ...ctx.query, scope: withOffline(q) });
    if (isForm) {
      const params = new URLSearchParams((await readBody(ctx.req)).toString('utf8'));
      const scope = params.get('scope');
      if (scope) params.set('scope', withOffline(scope));
      replaceBody(ctx.req, Buffer.from(params.toString()));
    }
  } else if (isForm && CLIENT_AUTH_ROUTES.has(ctx.path)) {
    const clientId = emptySecretBasicClientId(ctx.get('authorization') || undefined);
    if (clientId !== undefined) {
      const params = new URLSearchParams((await readBody(ctx.req)).toString('utf8'));
      const inBody = params.get('client_id');
      if (inBody !== null && inBody !== clientId) throw new errors.InvalidRequest('client_id mismatch');
      params.set('client_id', clientId);
      delete ctx.req.headers.authorization;
      replaceBody(ctx.req, Buffer.from(params.toString()));
    }
  }
}
