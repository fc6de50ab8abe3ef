import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientAuditDetails } from '../audit/client-details.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { recordRequest } from '../audit/request-audit.ts';
import { clientIdParam, clientView, registerClientInput } from '../clients/clients.schemas.ts';
import type { ClientsService } from '../clients/clients.service.ts';
import { adminErrors } from '../errors/error.schemas.ts';
import { bearer } from '../openapi/security.ts';

// `/a/admin/clients`: thin routes over the clients service (the same one the CLI uses), so the API,
// the command line and the clients file register clients by one set of rules.

const client = clientView.meta({ id: 'Client' });
const clientWithSecret = clientView
  .extend({ secret: z.string().optional().meta({ description: 'the client secret, shown once: only its digest is kept' }) })
  .meta({ id: 'ClientWithSecret' });
const clientParams = z.object({ clientId: clientIdParam });
const clientList = z.object({ clients: z.array(client) });

const doc = (operationId: string, summary: string) => ({ tags: ['clients'], operationId, summary, security: bearer() });
const NO_CLIENT = { 404: 'no client with that id' };

export async function clientsAdminRoutes(app: FastifyInstance, deps: { clients: ClientsService; audit: AuditService }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const target = (id: string) => ({ type: 'client', id });

  r.post(
    '/clients',
    {
      schema: {
        ...doc('registerClient', 'Register a client: confidential (a secret, generated and shown once unless given) or public; first- or third-party'),
        body: registerClientInput,
        response: {
          201: clientWithSecret.describe('registered; a generated secret is in the answer, once'),
          ...adminErrors([400, 409], { 409: 'a client with that id exists (registered, a default client, or in the clients file)' }),
        },
      },
    },
    async (request, reply) => {
      const { client: registered, secret } = await deps.clients.register(request.body);
      await recordRequest(deps.audit, request, {
        action: 'client.created',
        target: target(registered.clientId),
        details: { ...clientAuditDetails(registered), generated: secret !== undefined },
      });
      reply.code(201).header('cache-control', 'no-store');
      return secret === undefined ? registered : { ...registered, secret };
    },
  );

  r.get(
    '/clients',
    {
      schema: {
        ...doc('listClients', 'List every client: the defaults, the clients file’s, then the registered ones'),
        response: { 200: clientList.describe('every client'), ...adminErrors([]) },
      },
    },
    async () => ({ clients: await deps.clients.list() }),
  );

  r.get(
    '/clients/:clientId',
    { schema: { ...doc('getClient', 'Get a client'), params: clientParams, response: { 200: client.describe('the client'), ...adminErrors([400, 404], NO_CLIENT) } } },
    async (request) => deps.clients.get(request.params.clientId),
  );

  r.post(
    '/clients/:clientId/secret',
    {
      schema: {
        ...doc('rotateClientSecret', 'Rotate a confidential client’s secret: a new one is generated and shown once; the old one stops working at once'),
        params: clientParams,
        response: {
          200: clientWithSecret.describe('the new secret is in the answer, once'),
          ...adminErrors([400, 404, 409], { ...NO_CLIENT, 409: 'a public client has no secret; a configuration client’s secret is set in configuration' }),
        },
      },
    },
    async (request, reply) => {
      const { client: rotated, secret } = await deps.clients.rotateSecret(request.params.clientId);
      await recordRequest(deps.audit, request, { action: 'client.secret_rotated', target: target(rotated.clientId) });
      reply.header('cache-control', 'no-store');
      return { ...rotated, secret };
    },
  );

  r.delete(
    '/clients/:clientId',
    {
      schema: {
        ...doc('deleteClient', 'Delete a registered client; its tokens stop working'),
        params: clientParams,
        response: {
          204: z.undefined().describe('deleted'),
          ...adminErrors([400, 404, 409], { ...NO_CLIENT, 409: 'a default client or a client of the clients file cannot be deleted here' }),
        },
      },
    },
    async (request, reply) => {
      await deps.clients.remove(request.params.clientId);
      await recordRequest(deps.audit, request, { action: 'client.deleted', target: target(request.params.clientId) });
      return reply.code(204).send();
    },
  );
}
