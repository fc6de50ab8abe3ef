import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueLeaf, loadOrCreateRootCa } from '../../src/tls/local-ca.ts';
import { freePort } from './harness.ts';
import { https1, tempDir } from './tls.ts';

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface Pebble {
  /** The ACME directory URL. */
  directory: string;
  /** The CA that signed the directory's own TLS certificate (give it to the ACME client). */
  directoryCa: string;
  /** Pebble's issuing root (regenerated at every Pebble start). */
  issuingRoot(): Promise<string>;
  output(): string;
}

/**
 * Debian's pebble (a test ACME server) on loopback, validating challenges for real: HTTP-01 goes to
 * `httpPort` on the identifier's address. Full speed (no random sleeps, no rejected nonces) and no
 * reuse of valid authorizations, so every order is validated again.
 */
export async function startPebble(t: Tap, opts: { httpPort: number }): Promise<Pebble> {
  const dir = await tempDir(t, 'pebble-');
  const ca = await loadOrCreateRootCa(join(dir, 'ca'), new Date());
  const tlsPair = await issueLeaf(ca, ['127.0.0.1', 'localhost'], new Date(), 7);
  await writeFile(join(dir, 'cert.pem'), tlsPair.cert);
  await writeFile(join(dir, 'key.pem'), tlsPair.key);
  const [listen, management, tlsPort] = [await freePort(), await freePort(), await freePort()];
  await writeFile(
    join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort: opts.httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const child = spawn('pebble', ['-config', join(dir, 'pebble.json'), '-strict=false'], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pebble did not start:\n${output}`)), 10_000);
    const check = () => {
      if (output.includes('ACME directory available')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`pebble exited (${code}):\n${output}`)));
    child.once('error', reject);
  });
  return {
    directory: `https://127.0.0.1:${listen}/dir`,
    directoryCa: ca.certPem,
    async issuingRoot() {
      const res = await https1(`https://127.0.0.1:${management}/roots/0`, { ca: ca.certPem });
      if (res.status !== 200) throw new Error(`pebble roots: ${res.status}`);
      return res.body;
    },
    output: () => output,
  };
}
