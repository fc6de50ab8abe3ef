import type { SecureServerOptions } from 'node:http2';
import type { Server as TlsServer, SecureContextOptions } from 'node:tls';
import { fileSource } from './file.ts';
import { TlsError, type KeyPair } from './pem.ts';
import type { CertificateSource, SourceDeps } from './source.ts';

export { TlsError } from './pem.ts';

// Settings shared by the first context and every swapped-in one (setSecureContext replaces the whole
// context, so they are passed again each time).
const CONTEXT: SecureContextOptions = { minVersion: 'TLSv1.2' };

/** The serving side of a TLS mode: server options, live certificate swaps, background renewal. */
export interface TlsRuntime {
  mode: 'file' | 'self' | 'letsencrypt';
  /** For http2.createSecureServer (Fastify `https`): HTTP/1.1 and HTTP/2 on one port, chosen by ALPN. */
  serverOptions: SecureServerOptions;
  notice: string[];
  /** Binds the runtime to the listening server and starts the periodic refresh. */
  attach(server: TlsServer): void;
  /** Checks for a newer certificate now and serves it; true when the certificate changed. */
  refresh(): Promise<boolean>;
  close(): Promise<void>;
}

// The self and letsencrypt modes are loaded when chosen: their X.509 and ACME libraries (with
// node-forge and axios) are megabytes of heap in a process that serves plain HTTP or given files.
async function sourceFor(deps: SourceDeps): Promise<CertificateSource | undefined> {
  switch (deps.config.tls.mode) {
    case 'none':
      return undefined;
    case 'file':
      return fileSource(deps);
    case 'self':
      return (await import('./self.ts')).selfSignedSource(deps);
    case 'letsencrypt':
      return (await import('./letsencrypt.ts')).letsEncryptSource(deps);
  }
}

/** Prepares the configured TLS mode (obtaining the first certificate); undefined for tls.mode none. */
export async function prepareTls(deps: SourceDeps): Promise<TlsRuntime | undefined> {
  const { config, log } = deps;
  const mode = config.tls.mode;
  if (mode === 'none') return undefined;
  if (!config.publicUrl.startsWith('https:')) {
    throw new TlsError(`publicUrl: must be an https:// URL when tls.mode is ${mode} (it is ${config.publicUrl})`);
  }
  const source = (await sourceFor(deps))!;
  const first = await source.initial();
  let server: TlsServer | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;

  const apply = (pair: KeyPair) => server?.setSecureContext({ ...CONTEXT, cert: pair.cert, key: pair.key });

  async function refresh(): Promise<boolean> {
    // One refresh at a time: a timer tick and a SIGHUP must not order two certificates.
    return (running ??= (async () => {
      try {
        const next = await source.refresh();
        if (!next) return false;
        apply(next);
        log.info({ mode }, 'serving a new TLS certificate');
        return true;
      } finally {
        running = undefined;
      }
    })());
  }

  return {
    mode,
    serverOptions: { ...CONTEXT, cert: first.cert, key: first.key, allowHTTP1: true },
    notice: source.notice ?? [],
    attach(s) {
      server = s;
      timer = setInterval(() => {
        refresh().catch((err) => log.warn({ err: (err as Error).message }, 'could not refresh the TLS certificate; keeping the current one'));
      }, source.refreshEveryMs);
      timer.unref();
    },
    refresh,
    async close() {
      if (timer) clearInterval(timer);
      await running?.catch(() => {});
      await source.close?.();
    },
  };
}
