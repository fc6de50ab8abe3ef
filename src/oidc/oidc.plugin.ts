import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import type Provider from 'oidc-provider';
import { OIDC_PREFIX } from './provider.ts';

export interface OidcPluginOptions {
  /** The current provider (it is rebuilt when the published keys change). */
  provider: () => Provider;
  publicUrl: string;
}

/**
 * An HTTP/2 request may carry a body without content-length (RFC 9113 §8.1.1: the stream's end frames
 * it). The provider's body parser (type-is, raw-body) sees a body only when content-length or
 * transfer-encoding announces one, so such a POST to the token endpoint would be refused as having no
 * form body. Announce it the HTTP/1.1 way: a body of unknown length, read to the end of the stream.
 */
function markHttp2Body(req: IncomingMessage): void {
  if (req.httpVersionMajor !== 2 || req.headers['content-length'] !== undefined) return;
  if ((req as unknown as Http2ServerRequest).stream.endAfterHeaders) return;
  req.headers['transfer-encoding'] = 'chunked';
}

/**
 * Mounts node-oidc-provider under /oidc as two catch-all routes whose own onRequest hook hands the raw
 * request to the provider's Koa callback, before Fastify reads the body (the provider parses its own).
 * Routes rather than a middleware engine (@fastify/middie) so that only /oidc requests pay for the
 * hand-over: middie ran its path matching on every request, a tenth of a forward-auth check's CPU.
 * More specific routes under /oidc registered elsewhere win over the catch-all (find-my-way).
 *
 * The provider builds every URL from the request, so the request is made to look as if it came to the
 * configured public URL (SPEC §1: never from Host or X-Forwarded-*). The client address is the one
 * Fastify settled on with its trusted-proxy list.
 */
async function oidcPlugin(app: FastifyInstance, opts: OidcPluginOptions): Promise<void> {
  const pub = new URL(opts.publicUrl);
  const host = pub.host;
  const proto = pub.protocol.slice(0, -1);
  // Koa composes its middleware anew on every callback(): once per provider (it is rebuilt when the
  // published keys change), not once per request.
  const callbacks = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  const callbackOf = (provider: Provider) => {
    let cb = callbacks.get(provider);
    if (!cb) callbacks.set(provider, (cb = provider.callback()));
    return cb;
  };

  /** Hands a request to the provider as if mounted at /oidc (the path it sees starts after it). */
  function handOver(request: FastifyRequest, reply: FastifyReply): void {
    const req = request.raw as IncomingMessage & { originalUrl?: string };
    const res = reply.raw as ServerResponse;
    reply.hijack();
    // What the hooks so far set on the reply (the security headers) goes out with the provider's answer.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    req.headers['x-forwarded-host'] = host;
    req.headers['x-forwarded-proto'] = proto;
    req.headers['x-forwarded-for'] = request.ip ?? req.socket.remoteAddress ?? '';
    markHttp2Body(req);
    // What a mounted Koa app expects: the full URL kept, the mount point cut off the path it routes.
    const url = req.url!;
    req.originalUrl = url;
    const rest = url.slice(OIDC_PREFIX.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    void callbackOf(opts.provider())(req, res);
  }

  for (const url of [OIDC_PREFIX, `${OIDC_PREFIX}/*`]) {
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url,
      exposeHeadRoute: false,
      onRequest: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
        handOver(request, reply);
        done();
      },
      handler: async () => undefined, // never reached: the hook has handed the request over
    });
  }
}

export default fp(oidcPlugin, { name: 'oidc' });
