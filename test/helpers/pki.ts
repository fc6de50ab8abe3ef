import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import type { LocalCa } from '../../src/tls/local-ca.ts';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/**
 * A public-CA-like hierarchy for tests: a root (path length 1) and an intermediate under it that
 * signs leaves (issueLeaf(intermediate, …)). Clients trust the root only, so a server must send the
 * intermediate after its leaf.
 */
export async function rootAndIntermediate(): Promise<{ rootPem: string; intermediate: LocalCa }> {
  const now = Date.now();
  const rootKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Test Root',
    keys: rootKeys,
    signingAlgorithm: EC,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const midKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const mid = await x509.X509CertificateGenerator.create({
    subject: 'CN=Test Intermediate',
    issuer: root.subjectName,
    publicKey: midKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: EC,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(midKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const certPem = mid.toString('pem') + '\n';
  return { rootPem: root.toString('pem') + '\n', intermediate: { dir: '', certFile: '', cert: mid, certPem, key: midKeys.privateKey, signing: EC } };
}
