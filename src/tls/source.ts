import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../util/clock.ts';
import type { KeyPair } from './pem.ts';

/** What every TLS mode provides: a first certificate, and later ones (renewed, re-read). */
export interface CertificateSource {
  /** The certificate to start with. Fails with a TlsError (one line) when there is none to serve. */
  initial(): Promise<KeyPair>;
  /** A newer certificate when there is one (renewal due, files changed), else undefined. */
  refresh(): Promise<KeyPair | undefined>;
  /** How often `refresh` runs while serving. */
  refreshEveryMs: number;
  /** Lines for the operator, printed once at start (how to trust a local root, for example). */
  notice?: string[];
  close?(): Promise<void>;
}

export interface SourceDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  /** For letsencrypt: a CA bundle (PEM) the ACME directory's certificate chains to, besides the system's. */
  acmeCa?: string;
}

/**
 * The host names a certificate must name: the public URL's host, the hosts of the extra https public
 * URLs, then any extra names, without repeats.
 */
export function certificateNames(config: Config, extra: string[] = []): string[] {
  const https = config.extraPublicUrls.filter((u) => u.startsWith('https:'));
  const hosts = [config.publicUrl, ...https].map((u) => new URL(u).hostname);
  return [...new Set([...hosts, ...extra].map((h) => h.replace(/^\[|\]$/g, '').toLowerCase()))];
}
