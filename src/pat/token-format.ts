import { hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

// SPEC §6.2. A personal access token reads `cap_` + 43 random base62 characters (43 × log2 62 ≈ 256.03
// bits) + a 6-character base62 CRC32 of everything before it — GitHub's shape (`ghp_…` + CRC32).
// The prefix lets secret scanners find leaked tokens; the checksum lets us, and them, refuse a
// mistyped or made-up token without a database query. CRC32 catches every single-character change
// and every swap of two neighbours (any error burst of 32 bits or less). It is not a MAC: anyone can
// compute it, so a forger who does still costs one indexed lookup and finds nothing.

export const PAT_PREFIX = 'cap_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6; // 62^6 ≈ 5.7e10 > 2^32: every CRC32 value fits
export const PAT_LENGTH = PAT_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;

/** The shape alone (no checksum): what a scanner's regex matches. */
export const PAT_SHAPE = /^cap_[0-9A-Za-z]{49}$/;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b >= 248) continue; // 248 = 4 × 62: keeps every character equally likely
      out += ALPHABET[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62Fixed(n: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function checksum(head: string): string {
  return base62Fixed(crc32(head), CHECKSUM_LENGTH);
}

/** A new token. The caller shows it once and stores only `patDigest(token)`. */
export function generatePat(): string {
  const head = PAT_PREFIX + randomBase62(BODY_LENGTH);
  return head + checksum(head);
}

/** True when the string has the prefix: it was meant to be a PAT (right or wrong). */
export function looksLikePat(value: string): boolean {
  return value.startsWith(PAT_PREFIX);
}

/** Shape and checksum; no I/O. */
export function isWellFormedPat(value: string): boolean {
  if (value.length !== PAT_LENGTH || !PAT_SHAPE.test(value)) return false;
  const head = value.slice(0, -CHECKSUM_LENGTH);
  return checksum(head) === value.slice(-CHECKSUM_LENGTH);
}

/** What is stored and looked up: the SHA-256 of the whole token, in hex. */
export function patDigest(token: string): string {
  // One-shot hashing: a third of the cost of a Hash object for a string this short (every check).
  return hash('sha256', token, 'hex');
}

/**
 * What a verifying instance keys its kept tokens by (pat-cache.ts): the same SHA-256 as 32 one-byte
 * characters, 48 bytes of heap where the hex is 80.
 */
export function patKey(token: string): string {
  return hash('sha256', token, 'binary'); // 'binary' is latin1
}

/** The stored digest of a key (a lookup after a miss). */
export function digestOfKey(key: string): string {
  return Buffer.from(key, 'latin1').toString('hex');
}
