import { createServer, type Server } from 'node:http';
import { TlsError } from './pem.ts';

// The plain-HTTP side of tls.mode = letsencrypt (port 80 in production): it answers ACME HTTP-01
// challenges (RFC 8555 §8.3) and sends everything else to the https public URL, as a site on port 80
// is expected to. The redirect is built from the configured public URL, never from Host.

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
// RFC 8555 §8.1: a token is base64url.
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export interface ChallengeResponder {
  set(token: string, keyAuthorization: string): void;
  delete(token: string): void;
  port: number;
  close(): Promise<void>;
}

export async function startChallengeResponder(opts: { host: string; port: number; publicUrl: string }): Promise<ChallengeResponder> {
  const answers = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith(CHALLENGE_PREFIX)) {
      const token = path.slice(CHALLENGE_PREFIX.length);
      const answer = TOKEN.test(token) ? answers.get(token) : undefined;
      res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(answer ?? 'unknown challenge');
      return;
    }
    const target = new URL(req.url && req.url.startsWith('/') ? req.url : '/', opts.publicUrl + '/');
    res.writeHead(308, { location: opts.publicUrl + target.pathname + target.search });
    res.end();
  });
  // A challenge answer is one small GET: slow or idle connections are cut early.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : '';
      reject(new TlsError(`tls.httpChallengePort ${opts.port}: cannot listen on ${opts.host}: ${err.code ?? err.message}${hint}`));
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    set: (token, keyAuthorization) => void answers.set(token, keyAuthorization),
    delete: (token) => void answers.delete(token),
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
