import { createHash } from 'node:crypto';
import t from 'tap';
import { clientSecretMatches, digestClientSecret, generateClientSecret } from '../../src/clients/client-secret.ts';

t.test('generated secrets: 256 random bits, URL-safe, never repeated', async (t) => {
  const secrets = new Set(Array.from({ length: 200 }, generateClientSecret));
  t.equal(secrets.size, 200);
  for (const s of secrets) {
    t.match(s, /^[A-Za-z0-9_-]{43}$/);
    t.equal(Buffer.from(s, 'base64url').length, 32);
  }
});

t.test('the stored form is a SHA-256 digest, never the secret', async (t) => {
  const secret = generateClientSecret();
  const stored = digestClientSecret(secret);
  t.equal(stored, `sha256:${createHash('sha256').update(secret).digest('hex')}`);
  t.notOk(stored.includes(secret));
});

t.test('matching', async (t) => {
  const secret = 'an-operator-chosen-secret';
  const stored = digestClientSecret(secret);
  t.equal(clientSecretMatches(secret, stored), true);
  t.equal(clientSecretMatches(`${secret} `, stored), false, 'exact, not trimmed');
  t.equal(clientSecretMatches(secret.toUpperCase(), stored), false, 'case matters');
  t.equal(clientSecretMatches(stored, stored), false, 'the digest itself is not the secret');
  t.equal(clientSecretMatches('', digestClientSecret('')), false, 'an empty secret never matches');
  t.equal(clientSecretMatches(secret, secret), false, 'a plaintext value where a digest belongs fails closed');
  t.equal(clientSecretMatches(secret, 'sha256:abcd'), false, 'a truncated digest fails');
  t.equal(clientSecretMatches(secret, undefined), false);
  t.equal(clientSecretMatches(undefined, stored), false);
  t.equal(clientSecretMatches(['x'], stored), false);
  t.equal(clientSecretMatches('é', digestClientSecret('é')), true, 'UTF-8');
});
