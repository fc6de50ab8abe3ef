import type { SecureServerOptions } from 'node:http2';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { guardAdmin, guardUser } from './auth/guards.ts';
import { verifyFastPath } from './auth/verify.fast-path.ts';
import { verifyRoutes } from './auth/verify.routes.ts';
import type { AppContext } from './context.ts';
import { bearerCaller } from './discovery/caller.ts';
import { discoveryRoutes } from './discovery/discovery.routes.ts';
import { VERSION } from './discovery/version.ts';
import { frameworkErrorHandler, registerErrorHandlers } from './errors/handler.ts';
import { healthRoutes } from './health/health.routes.ts';
import { lazyChildLogger } from './http/lazy-request-logger.ts';
import { requestLogController } from './http/request-logging.ts';
import { answerFirst } from './http/answer-first.ts';
import { registerSecurityHeaders, securityHeaders } from './http/security-headers.ts';
import { assetsRoutes } from './interaction/assets.routes.ts';
import { interactionRoutes } from './interaction/interaction.routes.ts';
import { oobRoutes } from './interaction/oob.routes.ts';
import { errorPage } from './interaction/views.ts';
import oidcPlugin from './oidc/oidc.plugin.ts';
import { providerTokenIntrospectionAnswerer } from './oidc/provider-token-introspection.ts';
import { introspectionFastPath } from './oidc/introspection.fast-path.ts';
import { loginRecorder } from './audit/login-events.ts';
import metricsPlugin from './metrics/metrics.plugin.ts';
import { patAdminRoutes } from './pat/pat-admin.routes.ts';
import { patIntrospectionAnswerer } from './pat/pat-introspection.answerer.ts';
import { patSelfRoutes } from './pat/pat-self.routes.ts';
import openapiPlugin from './openapi/openapi.plugin.ts';
import { auditAdminRoutes } from './admin/audit.admin.routes.ts';
import { clientsAdminRoutes } from './admin/clients.admin.routes.ts';
import { keysAdminRoutes } from './admin/keys.admin.routes.ts';
import { usersAdminRoutes } from './admin/users.admin.routes.ts';

export interface BuildOptions {
  /** Server options owned by the process (timeouts; `http2` + `https` under TLS); see server.ts. */
  server?: Omit<Partial<FastifyHttpOptions<never>>, 'http2'> & { http2?: boolean; https?: SecureServerOptions };
}

/** Builds the application. It never listens: server.ts does, and tests use `inject` or listen on port 0. */
export async function buildApp(ctx: AppContext, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = ctx;
  const serverOptions = {
    loggerInstance: ctx.log,
    logController: requestLogController(),
    childLoggerFactory: lazyChildLogger,
    trustProxy: config.trustedProxies.length ? config.trustedProxies : false,
    bodyLimit: 64 * 1024,
    requestIdHeader: 'x-request-id',
    frameworkErrors: frameworkErrorHandler,
    ...(options.server ?? {}),
  };
  // One code path for HTTP/1.1 and HTTP/2 (Fastify's typings split them into overloads on `http2`).
  const app = Fastify(serverOptions as FastifyHttpOptions<never>) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandlers(app, errorPage);
  // HSTS whenever people reach us over https: our own TLS, or a proxy terminating it for an https
  // public URL (browsers ignore the header on plain http, so it is harmless in development).
  const security = securityHeaders({ hsts: config.tls.mode !== 'none' || config.publicUrl.startsWith('https:') });
  registerSecurityHeaders(app, security);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  // First: it documents the routes registered after it (GET /a/openapi.yaml).
  await app.register(openapiPlugin);

  // Order: process probes, the provider, the people-facing pages, then our JSON APIs.
  await app.register(metricsPlugin, { metrics: ctx.metrics });
  await app.register(healthRoutes, { db: ctx.db });
  await app.register(oidcPlugin, {
    provider: ctx.oidc.provider,
    publicUrl: config.publicUrl,
  });
  await app.register(assetsRoutes);
  await app.register(interactionRoutes, {
    provider: ctx.oidc.provider,
    users: ctx.users,
    throttle: ctx.loginThrottle,
    csrfKey: ctx.oidc.cookieKey,
    onLogin: loginRecorder({ audit: ctx.audit, metrics: ctx.metrics }),
  });
  await app.register(oobRoutes);

  // The operators' API: one scope, one guard (an admin's bearer credential), areas inside it.
  await app.register(
    async (admin) => {
      guardAdmin(admin, ctx.bearer);
      await admin.register(usersAdminRoutes, { users: ctx.usersAdmin, audit: ctx.audit });
      await admin.register(clientsAdminRoutes, { clients: ctx.clients, audit: ctx.audit });
      await admin.register(patAdminRoutes, { pats: ctx.pats, users: ctx.users, audit: ctx.audit });
      await admin.register(keysAdminRoutes, { keys: ctx.keys, oidc: ctx.oidc, audit: ctx.audit });
      await admin.register(auditAdminRoutes, { audit: ctx.audit });
    },
    { prefix: '/a/admin' },
  );
  // A signed-in user's own things, and the forward-auth check (which does its own authentication).
  await app.register(
    async (auth) => {
      await auth.register(verifyRoutes, { auth: ctx.bearer });
      await auth.register(async (own) => {
        guardUser(own, ctx.bearer);
        await own.register(patSelfRoutes, { pats: ctx.pats, audit: ctx.audit });
      });
    },
    { prefix: '/a/auth' },
  );
  // The common cases of the forward-auth check and of introspection, before Fastify. Not when each
  // request is to be logged (debug): that is Fastify's, and the fast paths write no line.
  if (!ctx.log.isLevelEnabled('debug')) {
    answerFirst(
      app,
      [
        verifyFastPath({ auth: ctx.bearer, securityHeaders: security, stats: ctx.metrics.http, trustedProxies: config.trustedProxies }),
        introspectionFastPath({
          provider: ctx.oidc.provider,
          answerers: [patIntrospectionAnswerer({ pats: ctx.pats }), providerTokenIntrospectionAnswerer({ store: ctx.oidc.store })],
          securityHeaders: security,
          stats: ctx.metrics.http,
          clientMetadata: ctx.clientMetadata,
        }),
      ],
      ctx.log,
    );
  }
  await app.register(discoveryRoutes, {
    publicUrl: config.publicUrl,
    version: VERSION,
    buildRevision: config.buildRevision,
    caller: bearerCaller(ctx.bearer),
  });
  return app;
}
