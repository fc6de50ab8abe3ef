import http from 'node:http';

// A lean HTTP/1.1 client over node:http with keep-alive: what the flow, refresh and open-model
// drivers send with. fetch would cost the load generator several times more CPU on a machine the
// servers share.

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function agent(maxSockets = 256): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
}

export function request(
  ag: http.Agent,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { agent: ag, method, host: u.hostname, port: u.port, path: u.pathname + u.search, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed as this request went out on it (its keep-alive timeout
      // ran out while the setup did something else): the request never reached it. Node's documented
      // remedy is to send it again, on a new connection.
      if (req.reusedSocket && err.code === 'ECONNRESET') request(ag, method, url, headers, body).then(resolve, reject);
      else reject(err);
    });
    req.end(body);
  });
}

export const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
