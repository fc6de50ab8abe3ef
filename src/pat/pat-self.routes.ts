import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditService } from '../audit/audit.service.ts';
import { recordRequest } from '../audit/request-audit.ts';
import { principalOf } from '../auth/guards.ts';
import { isNodeScoped } from '../auth/principal.ts';
import { ForbiddenError, NotFoundError } from '../errors/app-error.ts';
import { errorResponses } from '../errors/error.schemas.ts';
import { bearer } from '../openapi/security.ts';
import type { PatService } from './pat.service.ts';
import { mintBody, mintResponse, SHOWN_ONCE, tokenIdParams, tokenList } from './pat.schemas.ts';
import { parseTokenRequest } from './token-request.ts';

const doc = (operationId: string, summary: string) => ({ tags: ['auth'], operationId, summary, security: bearer() });
const FORBIDDEN = { 403: 'a personal access token limited to nodes cannot manage tokens' };

/**
 * A signed-in user's own tokens (SPEC §6.1), registered inside a scope guarded by guardUser. Every
 * query is scoped by the owner: someone else's token id is a 404, as if it did not exist.
 */
export async function patSelfRoutes(app: FastifyInstance, deps: { pats: PatService; audit: AuditService }): Promise<void> {
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

  r.get(
    '/tokens',
    { schema: { ...doc('listOwnTokens', 'List my personal access tokens (never the secrets)'), response: { 200: tokenList.describe('my tokens, newest first'), ...errorResponses([401, 403], FORBIDDEN) } } },
    async (request) => ({ tokens: await deps.pats.list(owner(request).userId) }),
  );

  r.post(
    '/tokens',
    {
      schema: {
        ...doc('mintOwnToken', 'Mint a personal access token for myself, within my own rights; the secret is shown once'),
        body: mintBody,
        response: {
          201: mintResponse.describe('minted; the secret is in token, shown once'),
          ...errorResponses([400, 401, 403], { 403: 'a token limited to nodes cannot manage tokens, and one minted with a PAT cannot outlive it' }),
        },
      },
    },
    async (request, reply) => {
      const me = owner(request);
      const { token, pat } = await deps.pats.mint({
        owner: { id: me.userId },
        request: parseTokenRequest(request.body),
        label: request.body.label,
        createdBy: me.userId,
        createdVia: 'self',
        notAfter: me.via === 'pat' && me.hardExpiresAt ? new Date(me.hardExpiresAt * 1000) : undefined,
      });
      await recordRequest(deps.audit, request, {
        action: 'token.minted',
        target: { type: 'token', id: pat.id },
        details: { owner: { id: me.userId, login: me.login }, label: pat.label, scopes: pat.scopes, expiresAt: pat.expiresAt, autoRefreshSeconds: pat.autoRefreshSeconds, via: 'self' },
      });
      return reply.code(201).header('cache-control', 'no-store').send({ ...pat, token, warning: SHOWN_ONCE });
    },
  );

  r.delete(
    '/tokens/:id',
    {
      schema: {
        ...doc('revokeOwnToken', 'Revoke one of my personal access tokens'),
        params: tokenIdParams,
        response: {
          204: z.undefined().describe('revoked: refused everywhere at once'),
          ...errorResponses([400, 401, 403, 404], { ...FORBIDDEN, 404: 'none of my tokens has that id' }),
        },
      },
    },
    async (request, reply) => {
      const me = owner(request);
      const result = await deps.pats.revoke(request.params.id, me.userId);
      if (result === 'not-found') throw new NotFoundError(`no token with id ${request.params.id}`);
      if (result === 'revoked') await recordRequest(deps.audit, request, { action: 'token.revoked', target: { type: 'token', id: request.params.id }, details: { via: 'self' } });
      return reply.code(204).send();
    },
  );
}
