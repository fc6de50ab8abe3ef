import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../errors/error.schemas.ts';
import type { CallerCheck } from './caller.ts';

export interface DiscoveryDeps {
  publicUrl: string;
  version: string;
  /** The source revision the running build was made from, when known. */
  buildRevision?: string;
  /** Who is calling; Version and BuildRevision are shown only to a known caller. */
  caller: CallerCheck;
}

export const discoveryResponse = z.object({
  Endpoints: z.object({ oidc: z.string(), rest: z.string(), openapi: z.string(), frontend: z.string() }),
  Version: z.string().optional(),
  BuildRevision: z.string().optional(),
});

/** SPEC §8: where everything is, built from the configured public URL (never from Host). */
export async function discoveryRoutes(app: FastifyInstance, deps: DiscoveryDeps): Promise<void> {
  const endpoints = {
    oidc: `${deps.publicUrl}/oidc`,
    rest: `${deps.publicUrl}/a`,
    openapi: `${deps.publicUrl}/a/openapi.yaml`,
    frontend: deps.publicUrl,
  };
  app.withTypeProvider<ZodTypeProvider>().get(
    '/a/config/discovery',
    {
      schema: {
        tags: ['meta'],
        operationId: 'getDiscovery',
        summary: 'Where everything is (SPEC §8); Version and BuildRevision for an authenticated caller',
        // Anonymous, or a bearer (which then must be valid).
        security: [{}, { bearer: [] }],
        response: {
          200: discoveryResponse.describe('the endpoints; with a valid bearer, the version too'),
          ...errorResponses([401], { 401: 'a bearer credential was sent and is not valid (refresh it, or send none)' }),
        },
      },
    },
    async (request, reply) => {
      const caller = await deps.caller(request);
      // The answer depends on the Authorization header: shared caches must not mix the two forms.
      reply.header('vary', 'authorization').header('cache-control', caller ? 'private, no-store' : 'no-cache');
      if (!caller) return { Endpoints: endpoints };
      return { Endpoints: endpoints, Version: deps.version, ...(deps.buildRevision ? { BuildRevision: deps.buildRevision } : {}) };
    },
  );
}
