import type { FastifyInstance } from 'fastify';

// Set on the raw response at the start of every request, so that the provider's own pages (written
// by Koa, outside Fastify's reply) carry them too.
const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "script-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function registerSecurityHeaders(app: FastifyInstance, opts: { hsts: boolean }): void {
  app.addHook('onRequest', async (_request, reply) => {
    const res = reply.raw;
    res.setHeader('content-security-policy', CSP);
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    if (opts.hsts) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
}
