import type { IncomingMessage } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { errorPage } from '../interaction/views.ts';

const BODY_LIMIT = 16 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * OIDC Core §3.1.2.1 (authorization) and RP-Initiated Logout 1.0 §2 (end session): both endpoints
 * take GET and POST. oidc-provider serves POST only with SameSite=None session cookies (a cross-site POST carries no Lax cookie), which a
 * plain-HTTP deployment cannot set. So a POST is answered with a 303 to the same endpoint carrying
 * the form's parameters in the query: the browser follows with a top-level GET, which does carry the
 * Lax session cookie, and the provider handles it exactly as a GET.
 *
 * `endpoints` maps the provider's path (as it sees it, under its mount) to the public URL.
 */
export function postAsGet(endpoints: Record<string, string>) {
  return async function postAsGet(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    const target = endpoints[ctx.path];
    if (!target || ctx.method !== 'POST') return next();
    const params = new URLSearchParams(ctx.querystring);
    if (ctx.is('application/x-www-form-urlencoded')) {
      const body = await readBody(ctx.req);
      if (body === undefined) {
        ctx.status = 413;
        ctx.type = 'html';
        ctx.body = errorPage(413, 'This request cannot continue', 'The request is too large.');
        return;
      }
      // Appended, not merged: a parameter sent twice is refused by the provider (rejectDupes).
      for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
    }
    const query = params.toString();
    ctx.set('cache-control', 'no-store');
    ctx.status = 303;
    ctx.redirect(query ? `${target}?${query}` : target);
  };
}
