import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UsersService } from '../accounts/users.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { recordRequest } from '../audit/request-audit.ts';
import { principalOf } from '../auth/guards.ts';
import { NotFoundError } from '../errors/app-error.ts';
import { adminErrors } from '../errors/error.schemas.ts';
import { bearer } from '../openapi/security.ts';
import type { PatService } from './pat.service.ts';
import { loginParams, mintBody, mintResponse, SHOWN_ONCE, tokenIdParams, tokenList } from './pat.schemas.ts';
import { parseTokenRequest } from './token-request.ts';

const doc = (operationId: string, summary: string) => ({ tags: ['tokens'], operationId, summary, security: bearer() });

/** SPEC §6.1 admin endpoints; registered inside the admin scope, whose guard has run. */
export async function patAdminRoutes(
  app: FastifyInstance,
  deps: { pats: PatService; users: Pick<UsersService, 'findByLogin'>; audit: AuditService },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  async function userByLogin(login: string) {
    const user = await deps.users.findByLogin(login);
    if (!user) throw new NotFoundError(`no user with login "${login}"`);
    return user;
  }

  r.post(
    '/users/:login/tokens',
    {
      schema: {
        ...doc('mintUserToken', 'Mint a personal access token for a user; the secret is shown once'),
        params: loginParams,
        body: mintBody,
        response: { 201: mintResponse.describe('minted; the secret is in token, shown once'), ...adminErrors([400, 404], { 404: 'no user with that login' }) },
      },
    },
    async (request, reply) => {
      const tokenRequest = parseTokenRequest(request.body);
      const user = await userByLogin(request.params.login);
      const { token, pat } = await deps.pats.mint({
        owner: user,
        request: tokenRequest,
        label: request.body.label,
        createdBy: principalOf(request).userId,
        createdVia: 'admin',
      });
      await recordRequest(deps.audit, request, {
        action: 'token.minted',
        target: { type: 'token', id: pat.id },
        details: { owner: { id: user.id, login: user.login }, label: pat.label, scopes: pat.scopes, expiresAt: pat.expiresAt, autoRefreshSeconds: pat.autoRefreshSeconds, via: 'admin' },
      });
      return reply.code(201).header('cache-control', 'no-store').send({ ...pat, token, warning: SHOWN_ONCE });
    },
  );

  r.get(
    '/users/:login/tokens',
    {
      schema: {
        ...doc('listUserTokens', 'List a user’s personal access tokens (never the secrets)'),
        params: loginParams,
        response: { 200: tokenList.describe('the user’s tokens, newest first'), ...adminErrors([400, 404], { 404: 'no user with that login' }) },
      },
    },
    async (request) => {
      const user = await userByLogin(request.params.login);
      return { tokens: await deps.pats.list(user.id) };
    },
  );

  r.delete(
    '/tokens/:id',
    {
      schema: {
        ...doc('revokeToken', 'Revoke a personal access token; revoking a revoked one is not an error'),
        params: tokenIdParams,
        response: { 204: z.undefined().describe('revoked: refused everywhere at once'), ...adminErrors([400, 404], { 404: 'no token with that id' }) },
      },
    },
    async (request, reply) => {
      const result = await deps.pats.revoke(request.params.id);
      if (result === 'not-found') throw new NotFoundError(`no token with id ${request.params.id}`);
      if (result === 'revoked') await recordRequest(deps.audit, request, { action: 'token.revoked', target: { type: 'token', id: request.params.id }, details: { via: 'admin' } });
      return reply.code(204).send();
    },
  );
}
