import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * Answers a request itself (true), or leaves it alone (false) for Fastify. A fast path that must
 * wait (to read a small body, to look something up) returns a promise: the request is then its own
 * until the promise settles, and goes to Fastify if it settles false.
 */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts `fastPaths` in front of Fastify on the server it made (HTTP/1.1, or HTTP/2 with TLS): each
 * request is offered to them first, and goes to Fastify when none answers it. Once the app begins
 * to close, every request goes to Fastify, which answers those with `Connection: close`. A fast
 * path that throws (or whose promise rejects) has its request handed to Fastify, unless it had
 * begun to answer it.
 */
export function answerFirst(app: FastifyInstance, fastPaths: FastPath[], log: FastifyInstance['log']): void {
  const server = app.server as unknown as { listeners(event: 'request'): Listener[]; removeListener(event: 'request', l: Listener): void; on(event: 'request', l: Listener): void };
  const listeners = server.listeners('request');
  if (listeners.length !== 1) throw new Error(`expected Fastify's one request listener, found ${listeners.length}`);
  const fastify = listeners[0]!;
  server.removeListener('request', fastify);
  let open = true;
  app.addHook('preClose', (done) => {
    open = false;
    done();
  });
  const failed = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    log.error({ err }, 'a fast path failed; the request goes the usual way');
    if (res.headersSent) res.destroy();
    else fastify(req, res);
  };
  server.on('request', (req, res) => {
    if (open) {
      try {
        for (const answer of fastPaths) {
          const answered = answer(req, res);
          if (answered === true) return;
          if (answered !== false) {
            answered.then(
              (done) => done || fastify(req, res),
              (err: unknown) => failed(req, res, err),
            );
            return;
          }
        }
      } catch (err) {
        return failed(req, res, err);
      }
    }
    fastify(req, res);
  });
}

/**
 * A fast path's good answer: 200, `headers` in their order, then the JSON type and length Fastify's
 * serializer would have set, so that the answer is the route's own byte for byte.
 */
export function endJson(res: ServerResponse, headers: Record<string, string>, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
