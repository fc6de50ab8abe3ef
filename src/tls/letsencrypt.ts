import { createHash, X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import acme from 'acme-client';
import { readIfExists } from './files.ts';
import { startChallengeResponder, type ChallengeResponder } from './http-challenge.ts';
import { writeKeyPair } from './local-ca.ts';
import { certificateCovers, checkKeyPair, expiresAt, TlsError, type KeyPair } from './pem.ts';
import { certificateNames, type CertificateSource, type SourceDeps } from './source.ts';

// tls.mode = letsencrypt: certificates from an ACME CA (RFC 8555) through acme-client, proved with
// HTTP-01 on tls.httpChallengePort. The account key and the certificates are kept under
// <dataDir>/acme/<directory>/, so a restart serves the kept certificate and asks for nothing; a
// certificate is ordered again when fewer than tls.renewDays days are left, and the running server
// switches to it without a restart.
//
// TLS-ALPN-01 is not offered: it must answer on the serving port with a special certificate chosen by
// the ALPN protocol the client offers, and Node picks the certificate (SNICallback) before ALPN is
// negotiated.

const DAY = 86_400_000;

export const DIRECTORIES = {
  production: acme.directory.letsencrypt.production,
  staging: acme.directory.letsencrypt.staging,
} as const;

export function directoryUrl(directory: string): string {
  return directory in DIRECTORIES ? DIRECTORIES[directory as keyof typeof DIRECTORIES] : directory;
}

/** One cache folder per ACME directory: an account belongs to one CA. */
export function acmeDir(dataDir: string, directory: string): string {
  const url = new URL(directoryUrl(directory));
  const hash = createHash('sha256').update(url.href).digest('hex').slice(0, 8);
  return join(dataDir, 'acme', `${url.hostname}-${hash}`);
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

export function letsEncryptSource(deps: SourceDeps): CertificateSource {
  const { config, clock, log } = deps;
  if (config.tls.mode !== 'letsencrypt') throw new TlsError('tls.mode: expected letsencrypt');
  const tls = config.tls;
  const names = certificateNames(config);
  const ip = names.find((n) => isIP(n));
  if (ip) throw new TlsError(`publicUrl: ${ip} is an IP address; tls.mode letsencrypt needs a DNS name (use tls.mode self or file)`);
  const url = directoryUrl(tls.directory);
  const dir = acmeDir(config.dataDir, tls.directory);
  const certFile = join(dir, names[0]!, 'cert.pem');
  const keyFile = join(dir, names[0]!, 'key.pem');
  const bindHost = config.bind.slice(0, config.bind.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  let responder: ChallengeResponder | undefined;
  let current: KeyPair | undefined;

  // acme-client talks through one axios instance per process; a private CA for the directory (tests,
  // an internal ACME server) is added there. NODE_EXTRA_CA_CERTS works as well, for the whole process.
  if (deps.acmeCa) acme.axios.defaults.httpsAgent = new Agent({ ca: deps.acmeCa });

  async function accountKey(): Promise<string> {
    const file = join(dir, 'account-key.pem');
    const kept = await readIfExists(file);
    if (kept) return kept;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
    // 'wx': two instances starting together keep the first key written.
    await writeFile(file, key, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    return (await readIfExists(file))!;
  }

  /**
   * Whether the kept certificate can be served at all (its own key, not expired) and, if it should
   * be replaced, why.
   */
  function inspect(pair: KeyPair | undefined): { servable: boolean; renewal?: string } {
    if (!pair) return { servable: false, renewal: 'no certificate yet' };
    let leaf: X509Certificate;
    try {
      leaf = checkKeyPair(pair, { cert: certFile, key: keyFile }, new Date(clock.now())).leaf;
    } catch (err) {
      return { servable: false, renewal: oneLine(err) };
    }
    const left = expiresAt(leaf) - clock.now();
    const servable = left > 0;
    const missing = names.find((n) => !certificateCovers(leaf, n));
    if (missing) return { servable, renewal: `the kept certificate does not name ${missing}` };
    if (left < tls.renewDays * DAY) return { servable, renewal: `${Math.max(0, Math.floor(left / DAY))} days left (renewal at ${tls.renewDays})` };
    return { servable };
  }

  async function order(): Promise<KeyPair> {
    const client = new acme.Client({ directoryUrl: url, accountKey: await accountKey() });
    const [key, csr] = await acme.crypto.createCsr({ commonName: names[0]!, altNames: names }, await acme.crypto.createPrivateEcdsaKey());
    const cert = await client.auto({
      csr,
      email: tls.email,
      termsOfServiceAgreed: tls.acceptTos,
      challengePriority: ['http-01'],
      // The CA's own validation is what counts; a self-check would fail behind NAT without hairpinning.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => responder!.set(challenge.token, keyAuthorization),
      challengeRemoveFn: async (_authz, challenge) => responder!.delete(challenge.token),
    });
    const pair = { cert, key: key.toString() };
    await mkdir(join(dir, names[0]!), { recursive: true, mode: 0o700 });
    await writeKeyPair(certFile, keyFile, pair);
    const leaf = new X509Certificate(cert);
    log.info({ names, directory: url, serial: leaf.serialNumber, notAfter: leaf.validTo }, 'obtained a certificate through ACME');
    return pair;
  }

  async function kept(): Promise<KeyPair | undefined> {
    const [cert, key] = [await readIfExists(certFile), await readIfExists(keyFile)];
    return cert && key ? { cert, key } : undefined;
  }

  return {
    // Checking is local and cheap; the CA is only asked when a renewal is due (and retried hourly after a failure).
    refreshEveryMs: 3600_000,
    async initial() {
      responder = await startChallengeResponder({ host: bindHost, port: tls.httpChallengePort, publicUrl: config.publicUrl });
      const pair = await kept();
      const { servable, renewal } = inspect(pair);
      if (!renewal) return (current = pair!);
      log.info({ names, directory: url, reason: renewal }, 'ordering a certificate through ACME');
      try {
        return (current = await order());
      } catch (err) {
        // A kept certificate that is still valid beats no service while the CA is unreachable; the
        // renewal is tried again at the next check.
        if (servable) {
          log.warn({ err: oneLine(err) }, 'could not renew the certificate; serving the kept one');
          return (current = pair!);
        }
        await responder.close();
        throw new TlsError(`tls: could not obtain a certificate for ${names.join(', ')} from ${url}: ${oneLine(err)}`);
      }
    },
    async refresh() {
      const { renewal } = inspect(current);
      if (!renewal) return undefined;
      log.info({ names, directory: url, reason: renewal }, 'renewing the certificate through ACME');
      return (current = await order());
    },
    async close() {
      await responder?.close();
    },
  };
}
