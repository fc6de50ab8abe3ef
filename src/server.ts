import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { AppContext } from './context.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

function splitBind(bind: string): { host: string; port: number } {
  const i = bind.lastIndexOf(':');
  return { host: bind.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(bind.slice(i + 1)) };
}

/**
 * Process concerns: listening, timeouts, graceful close. The first SIGTERM (or SIGINT) lets
 * in-flight requests finish, closes the pools and exits 0; a second one exits at once.
 */
export async function startServer(ctx: AppContext, opts: { bind?: string } = {}): Promise<RunningServer> {
  const app = await buildApp(ctx, {
    server: {
      // Slow clients are cut off instead of holding a socket open.
      connectionTimeout: 30_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      return503OnClosing: true,
    },
  });
  const { host, port } = splitBind(opts.bind ?? ctx.config.bind);
  const url = await app.listen({ host, port });
  ctx.startBackground();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await app.close();
      await ctx.close();
    })());
  return { app, url, close };
}

export function installSignalHandlers(server: RunningServer, log: AppContext['log']): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
