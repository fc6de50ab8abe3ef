import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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
  return PREFIX + createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Constant-time check of a presented secret against a stored digest. Both sides are digests of equal
 * length, so neither the comparison nor an early length check tells anything about the secret. A stored
 * value that is not a digest never matches: a plaintext secret that slipped in fails closed.
 */
export function clientSecretMatches(presented: unknown, stored: unknown): boolean {
  if (typeof presented !== 'string' || !presented || typeof stored !== 'string' || !stored.startsWith(PREFIX)) return false;
  const expected = Buffer.from(stored.slice(PREFIX.length), 'hex');
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
