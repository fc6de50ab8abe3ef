import type { Config } from '../../src/config/schema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createContext, type AppContext, type ContextOptions } from '../../src/context.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { freshDatabase, type DbKind } from './database.ts';
import { freePort } from './harness.ts';
import { memoryLogger } from './tls.ts';

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface TestServer {
  ctx: AppContext;
  server: RunningServer;
  config: Config;
  port: number;
  logs: () => string;
}

/**
 * The process-level server (src/server.ts: TLS mode, HTTP/2, graceful close) on a fresh database,
 * listening on 127.0.0.1 at `port` (a free one unless given). `config` is laid over the defaults as a
 * config file would be; `publicUrl` may use the placeholder PORT.
 */
export async function startTestServer(
  t: Tap,
  options: { kind?: DbKind; config?: Record<string, unknown>; port?: number; acmeCa?: string } & Omit<ContextOptions, 'database' | 'log'> = {},
): Promise<TestServer> {
  const { kind = 'pglite', config: overrides = {}, port: wanted, acmeCa, ...contextOptions } = options;
  const port = wanted ?? (await freePort());
  const publicUrl = String(overrides.publicUrl ?? `http://127.0.0.1:${port}`).replace('PORT', String(port));
  const level = (overrides.log as { level?: string } | undefined)?.level ?? 'info';
  const config = loadConfig({ env: {}, overrides: { ...overrides, publicUrl, bind: `127.0.0.1:${port}`, log: { level } } });
  const db = await freshDatabase(kind);
  const { log, text } = memoryLogger(level);
  const ctx = await createContext(config, { ...contextOptions, database: db.target, log });
  let server: RunningServer;
  try {
    server = await startServer(ctx, { acmeCa });
  } catch (err) {
    await ctx.close();
    await db.drop();
    throw err;
  }
  t.teardown(async () => {
    await server.close();
    await db.drop();
  });
  return { ctx, server, config, port, logs: text };
}
