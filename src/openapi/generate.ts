import { buildApp } from '../app.ts';
import { loadConfig } from '../config/load.ts';
import { createContext } from '../context.ts';
import { createLogger } from '../util/logger.ts';

/**
 * The OpenAPI document exactly as the app serves it at /a/openapi.yaml: the real app is built (on a
 * throwaway in-memory database, with the default settings, so the output depends on the routes
 * alone) and asked for it. `npm run openapi` writes this to openapi.yaml; the drift test compares.
 */
export async function generateOpenApiYaml(): Promise<string> {
  const config = loadConfig({ env: {} });
  const ctx = await createContext(config, { database: { kind: 'pglite', dir: null }, log: createLogger('silent'), processMetrics: false });
  try {
    const app = await buildApp(ctx);
    try {
      await app.ready();
      return app.swagger({ yaml: true });
    } finally {
      await app.close();
    }
  } finally {
    await ctx.close();
  }
}
