import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError } from '../errors/app-error.ts';
import type { BearerAuth } from './bearer.ts';
import { isNodeScoped, type Principal } from './principal.ts';

function decorate(app: FastifyInstance): void {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null);
}

/**
 * Every route of the scope needs an admin's bearer credential: 401 without one, 403 for a user who
 * is not an admin, and 403 for a PAT limited to nodes, whoever owns it (it may act on those nodes only).
 * Runs at onRequest, before the body is even parsed.
 */
export function guardAdmin(app: FastifyInstance, auth: BearerAuth): void {
  decorate(app);
  app.addHook('onRequest', async function requireAdmin(request) {
    const principal = await auth.authenticate(request.headers.authorization, { address: request.ip });
    if (isNodeScoped(principal)) throw new ForbiddenError('a token limited to nodes cannot use the admin API', 'insufficient_scope');
    if (!principal.roles.includes('admin')) throw new ForbiddenError('the admin role is required');
    request.principal = principal;
  });
}

/** Every route of the scope needs a signed-in user's bearer credential (an access token or a PAT). */
export function guardUser(app: FastifyInstance, auth: BearerAuth): void {
  decorate(app);
  app.addHook('onRequest', async function requireUser(request) {
    request.principal = await auth.authenticate(request.headers.authorization, { address: request.ip });
  });
}

/** The principal a guard set; a route outside a guarded scope asking for it is a programming error. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('no guard ran for this route');
  return request.principal;
}
