import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError, ValidationError } from '../errors/app-error.ts';
import { errorResponses } from '../errors/error.schemas.ts';
import { bearerOrBasic } from '../openapi/security.ts';
import { allows, isPerm } from '../pat/scopes.ts';
import type { BearerAuth } from './bearer.ts';
import { identityHeaders, verifyBody } from './verify-answer.ts';

// SPEC §6.5: the forward-auth endpoint for nginx `auth_request`, Traefik ForwardAuth and Caddy
// `forward_auth`. 200 with identity headers, 401 with a challenge, 403 when the node asked for is
// outside the token's node scopes. The node and permission come as headers (a proxy sets them per
// location) or as query parameters (a proxy that can only call a fixed URL). The common case — a
// PAT kept in memory, no node asked for — is answered before Fastify by verify.fast-path.ts, which
// must answer as this route does (test/integration/verify-fast-path.test.ts compares the two).

const verifyQuery = z.object({
  node: z.string().max(256).optional().meta({ description: 'a node UUID to check access to (or the X-Auth-Node header); goes with perm' }),
  perm: z.string().max(8).optional().meta({ description: 'r, w or rw (or the X-Auth-Permission header); goes with node' }),
});

const verifyResponse = z.object({
  active: z.literal(true),
  sub: z.string(),
  username: z.string(),
  via: z.enum(['pat', 'access_token']),
  scope: z.string(),
});

function header(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}

export async function verifyRoutes(app: FastifyInstance, deps: { auth: BearerAuth }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/verify',
    {
      schema: {
        tags: ['auth'],
        operationId: 'verify',
        summary: 'Forward-auth: is this credential good (for this node)? Identity in X-Auth-User, X-Auth-Subject, X-Auth-Scopes',
        security: bearerOrBasic(),
        querystring: verifyQuery,
        response: {
          200: verifyResponse.describe('good; the identity is also in the X-Auth-User, X-Auth-Subject and X-Auth-Scopes headers'),
          ...errorResponses([400, 401, 403], { 400: 'node or perm malformed, or one without the other', 403: 'the token’s node scopes do not allow that permission on that node' }),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const principal = await deps.auth.authenticate(request.headers.authorization, { address: request.ip, basic: true });
      const node = header(request.headers['x-auth-node']) ?? request.query.node;
      const perm = header(request.headers['x-auth-permission']) ?? request.query.perm;
      // A proxy misconfiguration, said plainly rather than guessed at.
      if (perm !== undefined && !isPerm(perm)) throw new ValidationError('perm', 'must be r, w or rw');
      if ((node === undefined) !== (perm === undefined)) throw new ValidationError(node === undefined ? 'node' : 'perm', 'node and perm go together');
      if (node !== undefined && perm !== undefined && principal.nodeGrants && !allows(principal.nodeGrants, node, perm)) {
        throw new ForbiddenError(`this token does not allow "${perm}" on that node`, 'insufficient_scope');
      }
      return reply.headers(identityHeaders(principal)).send(verifyBody(principal));
    },
  );
}
