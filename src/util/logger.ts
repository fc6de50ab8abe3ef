import pino, { type Logger } from 'pino';

// Never let a secret reach a log line: these paths are censored wherever they appear.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.client_secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.code',
  '*.secret',
];

// Query parameters that carry a secret (the OOB page receives `?code=`; a careless client may put a
// token in a URL): their values are replaced before a URL is logged.
const SECRET_PARAMS = /([?&](?:code|token|access_token|refresh_token|id_token|client_secret|password|code_verifier)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'cells-auth' },
      serializers: {
        req: (req: LoggedRequest) => ({ method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip ?? req.socket?.remoteAddress }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}

export type { Logger };
