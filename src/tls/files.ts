import { readFile } from 'node:fs/promises';
import { KeyObject, type webcrypto } from 'node:crypto';
import { TlsError } from './pem.ts';

/** A file's text, or undefined when it does not exist; any other failure is a one-line TlsError. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TlsError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** A WebCrypto private key as PKCS#8 PEM (what mkcert writes), through Node's own encoder. */
export function privateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}
