// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs a Reflect metadata
// polyfill loaded before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import { chmod, link, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { privateKeyPem, readIfExists } from './files.ts';
import { TlsError, type KeyPair } from './pem.ts';

// A local certificate authority in mkcert's layout, so that `CAROOT=<dir> mkcert -install` trusts it
// and a root mkcert made earlier in that directory is used as it is: rootCA.pem + rootCA-key.pem
// (PKCS#8), a CA limited to path length 0.

export const ROOT_CERT_FILE = 'rootCA.pem';
export const ROOT_KEY_FILE = 'rootCA-key.pem';

const DAY = 86_400_000;
const ROOT_DAYS = 10 * 365;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface LocalCa {
  dir: string;
  certFile: string;
  cert: x509.X509Certificate;
  certPem: string;
  key: CryptoKey;
  /** The algorithm the CA signs with (its key's kind: ours are ECDSA, mkcert's are RSA). */
  signing: typeof EC | typeof RSA;
}

async function importCaKey(keyPem: string, file: string): Promise<{ key: CryptoKey; signing: LocalCa['signing'] }> {
  let keyObject;
  try {
    keyObject = createPrivateKey(keyPem);
  } catch {
    throw new TlsError(`${file}: not a PEM private key`);
  }
  const kind = keyObject.asymmetricKeyType;
  if (kind === 'ec') return { key: keyObject.toCryptoKey(EC, false, ['sign']), signing: EC };
  if (kind === 'rsa') return { key: keyObject.toCryptoKey(RSA, false, ['sign']), signing: RSA };
  throw new TlsError(`${file}: unsupported key type ${kind} (expected ECDSA P-256 or RSA)`);
}

async function loadRoot(dir: string, certPem: string, keyPem: string): Promise<LocalCa> {
  const certFile = join(dir, ROOT_CERT_FILE);
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch {
    throw new TlsError(`${certFile}: not a PEM certificate`);
  }
  const { key, signing } = await importCaKey(keyPem, join(dir, ROOT_KEY_FILE));
  const publicKey = await cert.publicKey.export(signing, ['verify'], webcrypto);
  const probe = new Uint8Array(32);
  const signature = await webcrypto.subtle.sign(signing, key, probe);
  if (!(await webcrypto.subtle.verify(signing, publicKey, signature, probe))) {
    throw new TlsError(`${join(dir, ROOT_KEY_FILE)}: does not match ${certFile}`);
  }
  return { dir, certFile, cert, certPem, key, signing };
}

async function generateRoot(now: Date): Promise<{ certPem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const who = `${userInfo().username}@${hostname()}`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    name: `O=cells-auth local CA, OU=${who.replace(/[,+=<>#;"\\]/g, '_')}, CN=cells-auth local CA ${now.toISOString().slice(0, 10)}`,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + ROOT_DAYS * DAY),
    keys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = privateKeyPem(keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem };
}

/**
 * The root CA under `dir`, created on first use and kept. Two processes starting together on one data
 * directory agree on one root: the key is published with link(2), which fails when the name exists.
 */
export async function loadOrCreateRootCa(dir: string, now: Date): Promise<LocalCa> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, ROOT_CERT_FILE);
  const keyFile = join(dir, ROOT_KEY_FILE);
  for (let attempt = 0; attempt < 50; attempt++) {
    const [certPem, keyPem] = [await readIfExists(certFile), await readIfExists(keyFile)];
    if (certPem && keyPem) return loadRoot(dir, certPem, keyPem);
    if (certPem && !keyPem) throw new TlsError(`${certFile} exists without ${ROOT_KEY_FILE}: restore the key or remove both`);
    if (keyPem) {
      // Another process published the key and is about to publish the certificate.
      await sleep(100);
      continue;
    }
    const fresh = await generateRoot(now);
    const tmp = await mkdtemp(join(dir, '.rootCA-'));
    try {
      await writeFile(join(tmp, ROOT_KEY_FILE), fresh.keyPem, { mode: 0o600 });
      await writeFile(join(tmp, ROOT_CERT_FILE), fresh.certPem, { mode: 0o644 });
      try {
        await link(join(tmp, ROOT_KEY_FILE), keyFile);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      await rename(join(tmp, ROOT_CERT_FILE), certFile);
      return loadRoot(dir, fresh.certPem, fresh.keyPem);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  throw new TlsError(`${keyFile} exists without ${ROOT_CERT_FILE}: restore the certificate or remove both`);
}

/** A SubjectAltName entry per name: IP addresses as iPAddress, everything else as dNSName. */
export function altNames(names: string[]): x509.JsonGeneralNames {
  return names.map((n) => n.replace(/^\[|\]$/g, '')).map((n) => (isIP(n) ? { type: 'ip', value: n } : { type: 'dns', value: n.toLowerCase() }));
}

/** A server certificate for `names`, signed by the CA. The chain is the leaf alone: the root is what clients trust. */
export async function issueLeaf(ca: LocalCa, names: string[], now: Date, days: number): Promise<KeyPair> {
  if (!names.length) throw new TlsError('tls: no host name to put in the certificate');
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const first = names[0]!.replace(/^\[|\]$/g, '');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    subject: `O=cells-auth, CN=${first.replace(/[,+=<>#;"\\]/g, '_')}`,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + days * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.signing,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(altNames(names)),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return {
    cert: cert.toString('pem') + '\n',
    key: privateKeyPem(keys.privateKey),
  };
}

/** Writes a key pair so that a reader never sees half of it (each file replaced by rename). */
export async function writeKeyPair(certFile: string, keyFile: string, pair: KeyPair): Promise<void> {
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(keyFile + suffix, pair.key, { mode: 0o600 });
  await writeFile(certFile + suffix, pair.cert, { mode: 0o644 });
  await rename(keyFile + suffix, keyFile);
  await rename(certFile + suffix, certFile);
  await chmod(keyFile, 0o600);
}
