import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { principalOf } from '../auth/guards.ts';
import { isNodeScoped } from '../auth/principal.ts';
import { ForbiddenError, NotFoundError } from '../errors/app-error.ts';
import type { PatService } from './pat.service.ts';
import { mintBody, mintResponse, SHOWN_ONCE, tokenIdParams, tokenList } from './pat.schemas.ts';
import { parseTokenRequest } from './token-request.ts';

/**
 * A signed-in user's own tokens (SPEC §6.1), registered inside a scope guarded by guardUser. Every
 * query is scoped by the owner: someone else's token id is a 404, as if it did not exist.
 */
export async function patSelfRoutes(app: FastifyInstance, deps: { pats: PatService }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  // A PAT limited to nodes may act on those nodes only: managing tokens (and so minting one broader
  // than itself) is beyond it. An access token or an unscoped PAT carries the user's full rights, and
  // a token minted with them carries at most those — and, minted with a PAT that has a hard expiry,
  // cannot outlive it (a leaked one-hour token must not buy a ten-year one).
  function owner(request: FastifyRequest) {
    const principal = principalOf(request);
    if (isNodeScoped(principal)) throw new ForbiddenError('a token limited to nodes cannot manage tokens', 'insufficient_scope');
    return principal;
  }

  r.get('/tokens', { schema: { response: { 200: tokenList } } }, async (request) => ({ tokens: await deps.pats.list(owner(request).userId) }));

  r.post('/tokens', { schema: { body: mintBody, response: { 201: mintResponse } } }, async (request, reply) => {
    const me = owner(request);
    const { token, pat } = await deps.pats.mint({
      owner: { id: me.userId },
      request: parseTokenRequest(request.body),
      label: request.body.label,
      createdBy: me.userId,
      createdVia: 'self',
      notAfter: me.via === 'pat' && me.hardExpiresAt ? new Date(me.hardExpiresAt * 1000) : undefined,
    });
    request.log.info({ tokenId: pat.id, owner: me.userId, via: me.via }, 'personal access token minted');
    return reply.code(201).header('cache-control', 'no-store').send({ ...pat, token, warning: SHOWN_ONCE });
  });

  r.delete('/tokens/:id', { schema: { params: tokenIdParams } }, async (request, reply) => {
    const me = owner(request);
    const result = await deps.pats.revoke(request.params.id, me.userId);
    if (result === 'not-found') throw new NotFoundError(`no token with id ${request.params.id}`);
    return reply.code(204).send();
  });
}
