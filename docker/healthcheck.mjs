// The image's HEALTHCHECK: GET /healthz on this container's own port. It speaks https when the
// server does (any TLS mode) and plain http otherwise: a liveness probe on loopback checks that the
// process answers, not the certificate (which names the public host, not 127.0.0.1).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const bind = process.env.CELLS_AUTH_BIND || '0.0.0.0:8080';
const port = Number(bind.slice(bind.lastIndexOf(':') + 1));

function probe(request, extra) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 3000, ...extra }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

const ok = (await probe(httpsRequest, { rejectUnauthorized: false })) || (await probe(httpRequest, {}));
process.exit(ok ? 0 : 1);
