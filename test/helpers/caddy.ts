import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './tls.ts';

interface Tap {
  teardown(fn: () => unknown): void;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.end();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Debian's caddy as a TLS + HTTP/2 reverse proxy on 127.0.0.1:`port`, with the given certificate,
 * in front of `upstream` (https, verified against `upstreamCa`, or plain http). Its own state stays
 * in a temp dir.
 */
export async function startCaddy(
  t: Tap,
  opts: { port: number; cert: string; key: string; upstream: string; upstreamCa?: string },
): Promise<{ output(): string }> {
  const dir = await tempDir(t, 'caddy-');
  await writeFile(join(dir, 'cert.pem'), opts.cert);
  await writeFile(join(dir, 'key.pem'), opts.key, { mode: 0o600 });
  if (opts.upstreamCa) await writeFile(join(dir, 'upstream-ca.pem'), opts.upstreamCa);
  const transport = opts.upstreamCa ? `{\n\t\ttransport http {\n\t\t\ttls_trusted_ca_certs ${join(dir, 'upstream-ca.pem')}\n\t\t}\n\t}` : '';
  const caddyfile = `{
	admin off
	auto_https disable_redirects
	storage file_system ${join(dir, 'data')}
	skip_install_trust
}
https://127.0.0.1:${opts.port} {
	tls ${join(dir, 'cert.pem')} ${join(dir, 'key.pem')}
	reverse_proxy ${opts.upstream} ${transport}
}
`;
  await writeFile(join(dir, 'Caddyfile'), caddyfile);
  const child = spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  let exited = false;
  child.once('exit', () => (exited = true));
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  for (let i = 0; i < 100; i++) {
    if (exited) throw new Error(`caddy exited:\n${output}`);
    if (await listening(opts.port)) return { output: () => output };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`caddy did not listen on ${opts.port}:\n${output}`);
}
