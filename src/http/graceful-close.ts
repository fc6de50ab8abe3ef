import type { Server } from 'node:http';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';

const IDLE_SWEEP_MS = 100;

/**
 * What server.close() leaves open, closed without cutting a request in flight:
 * - HTTP/2 sessions: a browser keeps its session open, and close() waits for it. GOAWAY
 *   (session.close()) lets the streams in flight finish and ends the session after them. Fastify does
 *   this only with forceCloseConnections: true, which would also cut HTTP/1.1 keep-alive requests.
 * - HTTP/1.1 keep-alive connections that become idle once their last response is sent: close() only
 *   closes the ones idle when it is called, so they are swept until the server has closed.
 */
export function gracefulCloser(server: Server | Http2SecureServer): { drain(): () => void } {
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    drain() {
      for (const session of sessions) session.close();
      const sweep = () => (server as Server).closeIdleConnections?.();
      const timer = setInterval(sweep, IDLE_SWEEP_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
