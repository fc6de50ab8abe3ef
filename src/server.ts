import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { AppContext } from './context.ts';
import { gracefulCloser } from './http/graceful-close.ts';
import { prepareTls, type TlsRuntime } from './tls/tls.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** The TLS mode's runtime (certificate refresh), absent for tls.mode none. */
  tls?: TlsRuntime;
  close(): Promise<void>;
}

export interface StartOptions {
  bind?: string;
  /** A CA bundle the ACME directory's certificate chains to (an internal ACME server; tests). */
  acmeCa?: string;
}

function splitBind(bind: string): { host: string; port: number } {
  const i = bind.lastIndexOf(':');
  return { host: bind.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(bind.slice(i + 1)) };
}

/**
 * Process concerns: listening, timeouts, graceful close. The first SIGTERM (or SIGINT) lets
 * in-flight requests finish, closes the pools and exits 0; a second one exits at once.
 */
export async function startServer(ctx: AppContext, opts: StartOptions = {}): Promise<RunningServer> {
  const tls = await prepareTls({ config: ctx.config, log: ctx.log, clock: ctx.clock, acmeCa: opts.acmeCa });
  let app: FastifyInstance;
  let url: string;
  try {
    app = await buildApp(ctx, {
      server: {
        // Slow clients are cut off instead of holding a socket open.
        connectionTimeout: ctx.config.http.connectionTimeoutSeconds * 1000,
        requestTimeout: ctx.config.http.requestTimeoutSeconds * 1000,
        keepAliveTimeout: ctx.config.http.keepAliveTimeoutSeconds * 1000,
        // A request that reaches a closing server on a connection still open (one busy when the
        // close began, a pipelined one) is answered as usual, with `Connection: close` so that the
        // client reconnects elsewhere: the close waits for it anyway, and Fastify's 503 would show
        // a person its own JSON, in none of our error shapes.
        return503OnClosing: false,
        // With TLS, HTTP/2 and HTTP/1.1 share the port (ALPN picks); without it, HTTP/1.1 only.
        ...(tls ? { http2: true, https: tls.serverOptions } : {}),
      },
    });
    const { host, port } = splitBind(opts.bind ?? ctx.config.bind);
    url = await app.listen({ host, port });
  } catch (err) {
    await tls?.close();
    throw err;
  }
  tls?.attach(app.server as unknown as TlsServer);
  const closer = gracefulCloser(app.server);
  ctx.startBackground();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = app.close();
      const stopDraining = closer.drain();
      try {
        await closed;
      } finally {
        stopDraining();
      }
      await tls?.close();
      await ctx.close();
    })());
  return { app, url, tls, close };
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
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP: look for a new certificate now (tls.mode file: the files were replaced).
  process.on('SIGHUP', () => {
    server.tls?.refresh().then(
      (changed) => log.info({ changed }, 'SIGHUP: TLS certificate checked'),
      (err) => log.warn({ err: (err as Error).message }, 'SIGHUP: could not load the TLS certificate; keeping the current one'),
    );
  });
}
