import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UsersAdminService } from '../accounts/users.admin.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { recordRequest } from '../audit/request-audit.ts';
import { principalOf } from '../auth/guards.ts';
import { adminErrors } from '../errors/error.schemas.ts';
import { bearer } from '../openapi/security.ts';
import {
  createUserBody,
  createUserResponse,
  listUsersQuery,
  loginParams,
  setPasswordBody,
  setPasswordResponse,
  updateUserBody,
  userList,
  userView,
} from './users.admin.schemas.ts';

const doc = (operationId: string, summary: string) => ({ tags: ['users'], operationId, summary, security: bearer() });
const NO_USER = { 404: 'no user with that login' };

/** `/a/admin/users`: registered inside the admin scope, whose guard has run. */
export async function usersAdminRoutes(app: FastifyInstance, deps: { users: UsersAdminService; audit: AuditService }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const target = (id: string) => ({ type: 'user', id });

  r.post(
    '/users',
    {
      schema: {
        ...doc('createUser', 'Create a user; without a password, one is generated and returned once'),
        body: createUserBody,
        response: { 201: createUserResponse.describe('created; a generated password is in the answer, once'), ...adminErrors([400, 409], { 409: 'a user with that login exists' }) },
      },
    },
    async (request, reply) => {
      const { login, email, displayName, roles = [], password } = request.body;
      const created = await deps.users.create({ login, email, displayName, admin: roles.includes('admin'), password });
      await recordRequest(deps.audit, request, {
        action: 'user.created',
        target: target(created.user.id),
        details: { login, roles: created.user.roles, generated: created.generated },
      });
      reply.code(201).header('cache-control', 'no-store');
      return created.generated ? { ...created.user, password: created.password } : created.user;
    },
  );

  r.get(
    '/users',
    {
      schema: {
        ...doc('listUsers', 'List users by login, a page at a time, optionally filtered by a search'),
        querystring: listUsersQuery,
        response: { 200: userList.describe('a page of users, by login'), ...adminErrors([400]) },
      },
    },
    async (request) => deps.users.list(request.query),
  );

  r.get(
    '/users/:login',
    { schema: { ...doc('getUser', 'Get a user'), params: loginParams, response: { 200: userView.describe('the user'), ...adminErrors([400, 404], NO_USER) } } },
    async (request) => deps.users.get(request.params.login),
  );

  r.patch(
    '/users/:login',
    {
      schema: {
        ...doc('updateUser', 'Change a user’s e-mail, display name or roles'),
        params: loginParams,
        body: updateUserBody,
        response: { 200: userView.describe('the user, changed'), ...adminErrors([400, 404, 409], { ...NO_USER, 409: 'an administrator cannot remove their own admin role' }) },
      },
    },
    async (request) => {
      const { user, changes } = await deps.users.update(request.params.login, request.body, principalOf(request).userId);
      if (Object.keys(changes).length > 0) {
        await recordRequest(deps.audit, request, { action: 'user.updated', target: target(user.id), details: { login: user.login, changes } });
      }
      return user;
    },
  );

  r.post(
    '/users/:login/lock',
    {
      schema: {
        ...doc('lockUser', 'Lock a user: their sessions and OIDC tokens end; sign-ins and personal access tokens are refused until unlocked'),
        params: loginParams,
        response: { 200: userView.describe('the user, locked'), ...adminErrors([400, 404, 409], { ...NO_USER, 409: 'an administrator cannot lock their own account' }) },
      },
    },
    async (request) => {
      const { user, providerRecords } = await deps.users.lock(request.params.login, principalOf(request).userId);
      await recordRequest(deps.audit, request, { action: 'user.locked', target: target(user.id), details: { login: user.login, providerRecords } });
      return user;
    },
  );

  r.post(
    '/users/:login/unlock',
    {
      schema: {
        ...doc('unlockUser', 'Unlock a user and forget their failed sign-ins'),
        params: loginParams,
        response: { 200: userView.describe('the user, unlocked'), ...adminErrors([400, 404], NO_USER) },
      },
    },
    async (request) => {
      const user = await deps.users.unlock(request.params.login);
      await recordRequest(deps.audit, request, { action: 'user.unlocked', target: target(user.id), details: { login: user.login } });
      return user;
    },
  );

  r.put(
    '/users/:login/password',
    {
      schema: {
        ...doc('setUserPassword', 'Set a user’s password (without one, a password is generated and returned once); the sessions and OIDC tokens of the old one end unless keepSessions'),
        params: loginParams,
        body: setPasswordBody,
        response: { 200: setPasswordResponse.describe('set; a generated password is in the answer, once'), ...adminErrors([400, 404], NO_USER) },
      },
    },
    async (request, reply) => {
      const { password: given, keepSessions } = request.body;
      const { user, password, generated, providerRecords } = await deps.users.setPassword(request.params.login, given, { keepSessions });
      await recordRequest(deps.audit, request, { action: 'user.password_set', target: target(user.id), details: { login: user.login, generated, providerRecords } });
      reply.header('cache-control', 'no-store');
      return generated ? { user, password, endedSessions: providerRecords } : { user, endedSessions: providerRecords };
    },
  );

  r.delete(
    '/users/:login',
    {
      schema: {
        ...doc('deleteUser', 'Delete a user, their personal access tokens, and every session, grant and token issued to them'),
        params: loginParams,
        response: {
          204: z.undefined().describe('deleted; their tokens and sessions stop working at once'),
          ...adminErrors([400, 404, 409], { ...NO_USER, 409: 'an administrator cannot delete their own account' }),
        },
      },
    },
    async (request, reply) => {
      const { user, providerRecords } = await deps.users.remove(request.params.login, principalOf(request).userId);
      await recordRequest(deps.audit, request, { action: 'user.deleted', target: target(user.id), details: { login: user.login, providerRecords } });
      return reply.code(204).send();
    },
  );
}
