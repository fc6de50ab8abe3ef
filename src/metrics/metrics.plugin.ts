import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from './metrics.ts';

// Paths the provider serves under /oidc, as route labels; anything else there is one label, so that
// a scanner cannot blow up the label set.
const OIDC_ROUTES = [
  '/oidc/.well-known/openid-configuration',
  '/oidc/.well-known/oauth-authorization-server',
  '/oidc/.well-known/jwks.json',
  '/oidc/oauth2/auth',
  '/oidc/oauth2/token',
  '/oidc/oauth2/revoke',
  '/oidc/oauth2/introspect',
  '/oidc/oauth2/sessions/logout',
  '/oidc/userinfo',
  '/oidc/request',
];

function routeLabel(request: FastifyRequest, path: string): string {
  const route = request.routeOptions.url;
  // The provider's requests all match its catch-all routes (oidc.plugin.ts): label them by endpoint.
  if (route === '/oidc' || route === '/oidc/*') return OIDC_ROUTES.find((r) => path === r || path.startsWith(`${r}/`)) ?? '/oidc/*';
  return route ?? 'unmatched';
}

/**
 * Counts and times every request, including those handed to the provider (which end outside
 * Fastify's reply, so its own response hooks never see them): we listen for the raw response's `finish`.
 */
async function metricsPlugin(app: FastifyInstance, opts: { metrics: Metrics }): Promise<void> {
  const { metrics } = opts;
  app.addHook('onRequest', (request, reply, done) => {
    const start = process.hrtime.bigint();
    // Read now: the hand-over to the provider cuts the /oidc prefix off the raw URL.
    const path = request.url.split('?')[0]!;
    reply.raw.once('finish', () => {
      const route = routeLabel(request, path);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.httpRequests.inc({ method: request.method, route, status: String(reply.raw.statusCode) });
      metrics.httpDuration.observe({ method: request.method, route }, seconds);
    });
    done();
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

export default fp(metricsPlugin, { name: 'metrics' });
