import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** A TLS setting or file that cannot be used. Its message is one line naming the setting or file. */
export class TlsError extends Error {
  override name = 'TlsError';
}

/** A certificate chain (leaf first, then its intermediates) and the leaf's private key, as PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle, in file order. */
export function parseChain(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (!blocks.length) throw new TlsError(`${source}: no PEM certificate found`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new TlsError(`${source}: certificate #${i + 1} is not a valid X.509 certificate`);
    }
  });
}

export function parseKey(pem: string, source: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new TlsError(`${source}: not a PEM private key (or it is encrypted)`);
  }
}

/**
 * Checks that the key belongs to the chain's first certificate (the leaf). Returns the leaf and the
 * non-fatal problems worth a warning (expiry, intermediates out of order).
 */
export function checkKeyPair(pair: KeyPair, sources: { cert: string; key: string }, now: Date): { leaf: X509Certificate; warnings: string[] } {
  const chain = parseChain(pair.cert, sources.cert);
  const key = parseKey(pair.key, sources.key);
  const leaf = chain[0]!;
  if (key.asymmetricKeyType !== leaf.publicKey.asymmetricKeyType || !leaf.checkPrivateKey(key)) {
    throw new TlsError(`${sources.key}: this private key does not match the certificate in ${sources.cert} (the leaf must come first)`);
  }
  const warnings: string[] = [];
  if (new Date(leaf.validTo).getTime() <= now.getTime()) warnings.push(`${sources.cert}: the certificate expired on ${leaf.validTo}`);
  else if (new Date(leaf.validFrom).getTime() > now.getTime()) warnings.push(`${sources.cert}: the certificate is not valid before ${leaf.validFrom}`);
  for (let i = 1; i < chain.length; i++) {
    if (!chain[i - 1]!.checkIssued(chain[i]!)) {
      warnings.push(`${sources.cert}: certificate #${i + 1} did not issue certificate #${i}; intermediates must follow the leaf in order`);
      break;
    }
  }
  return { leaf, warnings };
}

/** Whether a certificate names the host (a DNS name, wildcards as browsers match them, or an IP). */
export function certificateCovers(leaf: X509Certificate, host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return isIP(bare) ? leaf.checkIP(bare) !== undefined : leaf.checkHost(bare) !== undefined;
}

/** Milliseconds since the epoch at which the certificate stops being valid. */
export function expiresAt(leaf: X509Certificate): number {
  return new Date(leaf.validTo).getTime();
}
