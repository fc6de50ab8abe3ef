import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

// Client secrets are shown once and kept only as a SHA-256 digest (STYLE §10, as immich keeps its API
// keys). A plain digest is enough here: the secrets we generate carry 256 random bits, and the ones an
// operator supplies must be long, so there is nothing for a slow hash to protect against guessing.

const PREFIX = 'sha256:';

/** 32 random bytes (256 bits), base64url: 43 characters a person can paste. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored in place of the secret: `sha256:<hex>`. */
export function digestClientSecret(secret: string): string {
  return PREFIX + hash('sha256', secret, 'hex');
}

/**
 * Constant-time check of a presented secret against a stored digest. Both sides are digests of equal
 * length, so neither the comparison nor an early length check tells anything about the secret. A stored
 * value that is not a digest never matches: a plaintext secret that slipped in fails closed.
 */
export function clientSecretMatches(presented: unknown, stored: unknown): boolean {
  if (typeof presented !== 'string' || !presented || typeof stored !== 'string' || !stored.startsWith(PREFIX)) return false;
  // Compared as hex text, both sides the same length (a digest of any secret is 64 characters).
  const expected = Buffer.from(stored.slice(PREFIX.length), 'latin1');
  const actual = Buffer.from(hash('sha256', presented, 'hex'), 'latin1');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
