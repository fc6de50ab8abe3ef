import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueLeaf, loadOrCreateRootCa, writeKeyPair, type LocalCa } from './local-ca.ts';
import { certificateCovers, checkKeyPair, expiresAt, TlsError, type KeyPair } from './pem.ts';
import { certificateNames, type CertificateSource, type SourceDeps } from './source.ts';

// tls.mode = self: a local root CA under <dataDir>/certs, created once and kept, signs a leaf for the
// configured names. The leaf is kept too (a restart serves the same certificate) and issued again when
// the names change or it comes within RENEW_DAYS of its end.

export const LEAF_CERT_FILE = 'cells-auth.pem';
export const LEAF_KEY_FILE = 'cells-auth-key.pem';
// Under Apple's 825-day limit for locally trusted roots, with room to spare.
const LEAF_DAYS = 365;
const RENEW_DAYS = 30;
const DAY = 86_400_000;

export function certsDir(dataDir: string): string {
  return join(dataDir, 'certs');
}

async function readPair(dir: string): Promise<KeyPair | undefined> {
  try {
    return { cert: await readFile(join(dir, LEAF_CERT_FILE), 'utf8'), key: await readFile(join(dir, LEAF_KEY_FILE), 'utf8') };
  } catch {
    return undefined;
  }
}

/** Whether a kept leaf can still be served: its own key, issued by this root, every name, not near its end. */
function usable(pair: KeyPair, ca: LocalCa, names: string[], now: Date): boolean {
  try {
    const { leaf } = checkKeyPair(pair, { cert: LEAF_CERT_FILE, key: LEAF_KEY_FILE }, now);
    if (!leaf.checkIssued(new X509Certificate(ca.certPem)) || !leaf.verify(new X509Certificate(ca.certPem).publicKey)) return false;
    if (!names.every((n) => certificateCovers(leaf, n))) return false;
    return expiresAt(leaf) - now.getTime() > RENEW_DAYS * DAY;
  } catch {
    return false;
  }
}

export function selfSignedSource(deps: SourceDeps): CertificateSource {
  const { config, clock, log } = deps;
  if (config.tls.mode !== 'self') throw new TlsError('tls.mode: expected self');
  const dir = certsDir(config.dataDir);
  const names = certificateNames(config, config.tls.hosts);
  let current: string | undefined;

  async function ensure(): Promise<KeyPair> {
    const now = new Date(clock.now());
    const ca = await loadOrCreateRootCa(dir, now);
    const kept = await readPair(dir);
    if (kept && usable(kept, ca, names, now)) return kept;
    const pair = await issueLeaf(ca, names, now, LEAF_DAYS);
    await writeKeyPair(join(dir, LEAF_CERT_FILE), join(dir, LEAF_KEY_FILE), pair);
    log.info({ names, dir }, 'issued a certificate from the local root CA');
    return pair;
  }

  return {
    refreshEveryMs: 12 * 3600_000,
    notice: [
      `TLS: serving a certificate for ${names.join(', ')} signed by the local root CA ${join(dir, 'rootCA.pem')}.`,
      `To trust it on this machine: CAROOT=${dir} mkcert -install   (or: curl --cacert ${join(dir, 'rootCA.pem')} …)`,
    ],
    async initial() {
      const pair = await ensure();
      current = pair.cert;
      return pair;
    },
    async refresh() {
      const pair = await ensure();
      if (pair.cert === current) return undefined;
      current = pair.cert;
      return pair;
    },
  };
}
