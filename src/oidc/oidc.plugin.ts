import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import middie from '@fastify/middie';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type Provider from 'oidc-provider';
import { OIDC_PREFIX } from './provider.ts';

export interface OidcPluginOptions {
  /** The current provider (it is rebuilt when the published keys change). */
  provider: () => Provider;
  publicUrl: string;
}

/**
 * Mounts node-oidc-provider under /oidc through @fastify/middie (the mounting the provider's own
 * test suite runs under Fastify). The provider builds every URL from the request, so the request is
 * made to look as if it came to the configured public URL (SPEC §1: never from Host or
 * X-Forwarded-*). The client address is the one Fastify settled on with its trusted-proxy list.
 */
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

async function oidcPlugin(app: FastifyInstance, opts: OidcPluginOptions): Promise<void> {
  const pub = new URL(opts.publicUrl);
  await app.register(middie, { hook: 'onRequest' });
  app.use(OIDC_PREFIX, (req: IncomingMessage & { ip?: string }, res: ServerResponse) => {
    req.headers['x-forwarded-host'] = pub.host;
    req.headers['x-forwarded-proto'] = pub.protocol.slice(0, -1);
    req.headers['x-forwarded-for'] = req.ip ?? req.socket.remoteAddress ?? '';
    markHttp2Body(req);
    opts.provider().callback()(req, res);
  });
}

export default fp(oidcPlugin, { name: 'oidc' });
