import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

// The pages' stylesheet and script, read once at start.
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  'cells-auth.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./assets/cells-auth.css', import.meta.url)) },
  'oob.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/oob.js', import.meta.url)) },
};

export async function assetsRoutes(app: FastifyInstance): Promise<void> {
  for (const [name, asset] of Object.entries(ASSETS)) {
    app.get(`/assets/${name}`, async (_request, reply) =>
      reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body),
    );
  }
}
