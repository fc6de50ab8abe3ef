import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { certificateCovers, checkKeyPair, TlsError, type KeyPair } from './pem.ts';
import type { CertificateSource, SourceDeps } from './source.ts';

// tls.mode = file: the operator's PEM files (the leaf first, its intermediates after it). They are
// read again every few minutes and on SIGHUP, so a certificate renewed by another tool (certbot, a
// secrets manager) is served without a restart; a broken pair keeps the old one in service.

async function readSetting(file: string, setting: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TlsError(`${setting} (${file}): cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

export function fileSource(deps: SourceDeps): CertificateSource {
  const { config, clock, log } = deps;
  if (config.tls.mode !== 'file') throw new TlsError('tls.mode: expected file');
  const certFile = resolve(config.tls.certFile);
  const keyFile = resolve(config.tls.keyFile);
  const host = new URL(config.publicUrl).hostname;
  let current: KeyPair | undefined;

  /** The files' pair, checked; undefined when it is the one already served. */
  async function load(): Promise<KeyPair | undefined> {
    const pair = { cert: await readSetting(certFile, 'tls.certFile'), key: await readSetting(keyFile, 'tls.keyFile') };
    if (current && pair.cert === current.cert && pair.key === current.key) return undefined;
    const { leaf, warnings } = checkKeyPair(pair, { cert: `tls.certFile (${certFile})`, key: `tls.keyFile (${keyFile})` }, new Date(clock.now()));
    if (!certificateCovers(leaf, host)) warnings.push(`tls.certFile (${certFile}): the certificate does not name ${host}, the public URL's host`);
    // Said once per certificate, not at every check.
    for (const w of warnings) log.warn(w);
    return (current = pair);
  }

  return {
    refreshEveryMs: 5 * 60_000,
    async initial() {
      return (await load())!;
    },
    refresh: load,
  };
}
