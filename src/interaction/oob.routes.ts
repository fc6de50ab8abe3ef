import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { oobPage } from './views.ts';

// Query values are shown, never trusted: bounded, and escaped by the view.
const oobQuery = z.object({
  code: z.string().max(2048).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
  state: z.string().max(2048).optional(),
  iss: z.string().max(2048).optional(),
});

/** SPEC §1: `/oauth2/oob` (what `cec` sends) and `/oauth/oob` (what the docs show). */
export async function oobRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  for (const path of ['/oauth2/oob', '/oauth/oob']) {
    r.get(path, { schema: { querystring: oobQuery }, config: { page: true } }, async (request, reply) => {
      const { code, error, error_description: errorDescription } = request.query;
      const status = code && !error ? 200 : 400;
      return reply
        .code(status)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(oobPage(error ? { error, errorDescription } : { code, error: code ? undefined : 'invalid_request', errorDescription: code ? undefined : 'No code was received.' }));
    });
  }
}
