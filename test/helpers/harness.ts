import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createContext, type AppContext, type ContextOptions } from '../../src/context.ts';
import { createLogger } from '../../src/util/logger.ts';
import { freshDatabase, type DbKind } from './database.ts';
import { freePort, reservePort } from './free-port.ts';

export interface TestApp {
  ctx: AppContext;
  app: FastifyInstance;
  /** Base URL of the listening server (also the configured public URL). */
  url: string;
  config: Config;
  /** Every log line the app wrote, as text. */
  logs: () => string;
  /** For a Postgres test database, its URL (for extra processes). */
  databaseUrl?: string;
}

interface Tap {
  teardown(fn: () => unknown): void;
}

export { freePort };

export interface BuildTestAppOptions extends Omit<ContextOptions, 'database' | 'log'> {
  kind: DbKind;
  /** Settings over the defaults (as in a config file). */
  config?: Record<string, unknown>;
  /** Build the app but do not listen (inject only). */
  listen?: boolean;
}

/**
 * The real app on a fresh database with migrations applied, listening on 127.0.0.1 at a free port
 * that is also its public URL. Everything is closed and the database dropped at teardown.
 */
export async function buildTestApp(t: Tap, options: BuildTestAppOptions): Promise<TestApp> {
  const { kind, config: overrides, listen = true, ...contextOptions } = options;
  // Held until the app listens on it: building the app takes a second or more.
  const reserved = await reservePort();
  const { port } = reserved;
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({ env: {}, overrides: { publicUrl: url, bind: `127.0.0.1:${port}`, log: { level: 'info' }, ...overrides } });
  const db = await freshDatabase(kind);
  let logText = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  let ctx: AppContext | undefined;
  let app: FastifyInstance | undefined;
  // Registered first: an app that fails to build or to listen is closed all the same (left open,
  // it kept the test process alive until tap's timeout).
  t.teardown(async () => {
    await reserved.release();
    await app?.close();
    await ctx?.close();
    await db.drop();
  });
  ctx = await createContext(config, { ...contextOptions, database: db.target, log: createLogger(config.log.level, sink as never) });
  app = await buildApp(ctx);
  await reserved.release();
  if (listen) await app.listen({ host: '127.0.0.1', port });
  return { ctx, app, url: config.publicUrl, config, logs: () => logText, databaseUrl: db.url };
}
