import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { UsersService } from '../accounts/users.service.ts';
import { principalOf } from '../auth/guards.ts';
import { NotFoundError } from '../errors/app-error.ts';
import type { PatService } from './pat.service.ts';
import { loginParams, mintBody, mintResponse, SHOWN_ONCE, tokenIdParams, tokenList } from './pat.schemas.ts';
import { parseTokenRequest } from './token-request.ts';

/** SPEC §6.1 admin endpoints; registered inside the admin scope, whose guard has run. */
export async function patAdminRoutes(app: FastifyInstance, deps: { pats: PatService; users: Pick<UsersService, 'findByLogin'> }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  async function userByLogin(login: string) {
    const user = await deps.users.findByLogin(login);
    if (!user) throw new NotFoundError(`no user with login "${login}"`);
    return user;
  }

  r.post(
    '/users/:login/tokens',
    { schema: { params: loginParams, body: mintBody, response: { 201: mintResponse } } },
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
      request.log.info({ tokenId: pat.id, owner: user.id, by: principalOf(request).userId }, 'personal access token minted');
      return reply.code(201).header('cache-control', 'no-store').send({ ...pat, token, warning: SHOWN_ONCE });
    },
  );

  r.get('/users/:login/tokens', { schema: { params: loginParams, response: { 200: tokenList } } }, async (request) => {
    const user = await userByLogin(request.params.login);
    return { tokens: await deps.pats.list(user.id) };
  });

  r.delete('/tokens/:id', { schema: { params: tokenIdParams } }, async (request, reply) => {
    const result = await deps.pats.revoke(request.params.id);
    if (result === 'not-found') throw new NotFoundError(`no token with id ${request.params.id}`);
    if (result === 'revoked') request.log.info({ tokenId: request.params.id, by: principalOf(request).userId }, 'personal access token revoked');
    return reply.code(204).send();
  });
}
