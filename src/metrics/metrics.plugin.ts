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
 * Counts and times every request, those handed to the provider included: Fastify runs onResponse
 * hooks from the raw response's `finish`, whoever wrote the response, and has timed it already.
 */
async function metricsPlugin(app: FastifyInstance, opts: { metrics: Metrics }): Promise<void> {
  const { metrics } = opts;
  app.addHook('onResponse', (request, reply, done) => {
    // The hand-over to the provider cut the /oidc prefix off the raw URL and kept the whole one.
    const url = (request.raw as { originalUrl?: string }).originalUrl ?? request.url;
    const q = url.indexOf('?');
    const route = routeLabel(request, q < 0 ? url : url.slice(0, q));
    metrics.http.record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

export default fp(metricsPlugin, { name: 'metrics' });
