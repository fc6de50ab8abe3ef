import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { TlsChoice } from '../config/tls-choice.ts';
import { checkKeyPair } from '../tls/pem.ts';
import { CliError } from './shared.ts';

// What `cells-auth config tls` asks for, and the checks both its menu and its flags apply.

export const LETSENCRYPT_TERMS = 'https://letsencrypt.org/repository/';

const DNS_NAME = /^(?=.{1,253}$)(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** undefined when the value is a host name or an IP address, else why not. */
export function hostProblem(host: string): string | undefined {
  return isIP(host) || DNS_NAME.test(host) ? undefined : `"${host}" is neither a host name nor an IP address`;
}

export function splitHosts(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

export function emailProblem(email: string): string | undefined {
  return z.email().safeParse(email).success ? undefined : `"${email}" is not an e-mail address`;
}

export function httpsUrlProblem(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && !u.search && !u.hash ? undefined : `"${url}" is not an https:// URL`;
  } catch {
    return `"${url}" is not an https:// URL`;
  }
}

/** Reads and matches a certificate file and a key file; undefined when they make a usable pair. */
export function keyPairProblem(certFile: string, keyFile: string): string | undefined {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'utf8');
  } catch (err) {
    return `${certFile}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  try {
    key = readFileSync(keyFile, 'utf8');
  } catch (err) {
    return `${keyFile}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  try {
    checkKeyPair({ cert, key }, { cert: certFile, key: keyFile }, new Date());
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The prompts the menu uses (@inquirer/prompts in the command; scripted answers in tests). */
export interface Prompts {
  select<V extends string>(o: { message: string; choices: { value: V; name: string; description?: string }[]; default?: V }): Promise<V>;
  input(o: { message: string; default?: string; validate?: (v: string) => true | string }): Promise<string>;
  confirm(o: { message: string; default?: boolean }): Promise<boolean>;
}

const orTrue = (problem: string | undefined) => problem ?? true;

/** The interactive menu: arrow keys pick the mode, then only that mode's questions. */
export async function askTlsChoice(p: Prompts, current: Config): Promise<{ choice: TlsChoice; publicUrl?: string }> {
  const cur = current.tls;
  const mode = await p.select({
    message: 'How should cells-auth serve HTTPS?',
    default: cur.mode,
    choices: [
      { value: 'self', name: 'Self-signed (local root CA)', description: 'A root CA kept under <data>/certs signs a certificate for your host names; trust it with mkcert -install.' },
      { value: 'letsencrypt', name: "Let's Encrypt (ACME)", description: 'Free public certificates, renewed automatically. Needs a public DNS name and port 80 reachable.' },
      { value: 'file', name: 'My own certificate files', description: 'A PEM certificate (leaf first, then intermediates) and its private key.' },
      { value: 'none', name: 'No TLS (plain HTTP)', description: 'For development, or behind a proxy that terminates TLS.' },
    ],
  });

  let choice: TlsChoice;
  if (mode === 'file') {
    const certFile = resolve(
      await p.input({
        message: 'Certificate file (PEM: the leaf, then its intermediates):',
        default: cur.mode === 'file' ? cur.certFile : undefined,
        validate: (v) => (v.trim() ? true : 'a path is required'),
      }),
    );
    const keyFile = resolve(
      await p.input({
        message: 'Private key file (PEM):',
        default: cur.mode === 'file' ? cur.keyFile : undefined,
        validate: (v) => (v.trim() ? orTrue(keyPairProblem(certFile, resolve(v))) : 'a path is required'),
      }),
    );
    choice = { mode, certFile, keyFile };
  } else if (mode === 'self') {
    const hosts = await p.input({
      message: "Extra host names or IP addresses for the certificate (the public URL's host is always in it), separated by spaces:",
      default: cur.mode === 'self' ? cur.hosts.join(' ') : '',
      validate: (v) => orTrue(splitHosts(v).map(hostProblem).find(Boolean)),
    });
    choice = { mode, hosts: splitHosts(hosts) };
  } else if (mode === 'letsencrypt') {
    const email = await p.input({
      message: 'E-mail address for the ACME account (expiry and policy notices):',
      default: cur.mode === 'letsencrypt' ? cur.email : undefined,
      validate: (v) => orTrue(emailProblem(v.trim())),
    });
    const where = await p.select({
      message: 'Which certificate authority?',
      default: cur.mode === 'letsencrypt' ? (cur.directory === 'production' || cur.directory === 'staging' ? cur.directory : 'url') : 'production',
      choices: [
        { value: 'production', name: "Let's Encrypt", description: 'Trusted certificates (rate-limited: test with staging first).' },
        { value: 'staging', name: "Let's Encrypt staging", description: 'Untrusted test certificates, generous limits.' },
        { value: 'url', name: 'Another ACME server', description: 'Any ACME directory URL.' },
      ],
    });
    const directory =
      where === 'url'
        ? await p.input({ message: 'ACME directory URL:', validate: (v) => orTrue(httpsUrlProblem(v.trim())) }).then((v) => v.trim())
        : where;
    const terms = where === 'url' ? `the terms of service of ${directory}` : `the Let's Encrypt Subscriber Agreement (${LETSENCRYPT_TERMS})`;
    if (!(await p.confirm({ message: `Do you accept ${terms}?`, default: false }))) {
      throw new CliError('the subscriber agreement was not accepted; nothing was written');
    }
    choice = { mode, email: email.trim(), acceptTos: true, directory };
  } else {
    choice = { mode: 'none' };
  }

  let publicUrl: string | undefined;
  if (choice.mode !== 'none' && !current.publicUrl.startsWith('https:')) {
    publicUrl = (
      await p.input({
        message: `TLS needs an https:// public URL (it is ${current.publicUrl} now). Public URL:`,
        default: current.publicUrl.replace(/^http:/, 'https:'),
        validate: (v) => orTrue(httpsUrlProblem(v.trim())),
      })
    ).trim();
  }
  return { choice, publicUrl };
}
