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

const HEADERS: [string, string][] = [
  ['content-security-policy', CSP],
  ['x-frame-options', 'DENY'],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['cross-origin-opener-policy', 'same-origin'],
];

export function registerSecurityHeaders(app: FastifyInstance, opts: { hsts: boolean }): void {
  const headers = opts.hsts ? [...HEADERS, ['strict-transport-security', 'max-age=31536000; includeSubDomains'] as [string, string]] : HEADERS;
  // A callback hook, not an async one: it runs on every request, and has nothing to wait for.
  app.addHook('onRequest', (_request, reply, done) => {
    const res = reply.raw;
    for (const [name, value] of headers) res.setHeader(name, value);
    done();
  });
}
