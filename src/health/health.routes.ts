import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { DbHandle } from '../db/connect.ts';

/** Liveness answers while the process runs; readiness only while the database answers. */
export async function healthRoutes(app: FastifyInstance, deps: { db: DbHandle }): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(deps.db.db);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', error: 'temporarily_unavailable', error_description: 'the database does not answer' });
    }
  });
}
