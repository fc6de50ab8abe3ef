import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp, freePort } from '../helpers/harness.ts';
import { makeUser, mintFor, echoUpstream } from '../helpers/pat.ts';

// The README's Caddy `forward_auth` snippet, run: Debian's caddy in front of a tiny upstream.

const CADDY = '/usr/bin/caddy';
const A = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';
const B = '7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d';

function caddyfile(port: number, app: string, upstream: string): string {
  return `{
	admin off
	auto_https off
}
http://127.0.0.1:${port} {
	map {method} {cells_perm} {
		GET r
		HEAD r
		default w
	}
	@node path_regexp node ^/nodes/([0-9a-fA-F-]{36})(/|$)
	handle @node {
		forward_auth ${app} {
			uri /a/auth/verify
			header_up X-Auth-Node {re.node.1}
			header_up X-Auth-Permission {cells_perm}
			copy_headers X-Auth-User X-Auth-Subject X-Auth-Scopes
		}
		reverse_proxy ${upstream}
	}
	handle {
		forward_auth ${app} {
			uri /a/auth/verify
			copy_headers X-Auth-User X-Auth-Subject X-Auth-Scopes
		}
		reverse_proxy ${upstream}
	}
}
`;
}

const kind = dbKinds()[0]!;

t.test(`caddy forward_auth in front of an upstream [${kind}]`, async (t) => {
  // A missing proxy fails the test (a skip would prove nothing): .ci/run installs Debian's caddy.
  if (!existsSync(CADDY)) throw new Error('caddy is not installed (apt-get install caddy)');
  const { ctx, url } = await buildTestApp(t, { kind });
  const alice = await makeUser(ctx, 'alice');
  const good = (await mintFor(ctx, alice.id, { expire: '1h' })).token;
  const scoped = (await mintFor(ctx, alice.id, { expire: '1h', scopes: `node:${A}:r` })).token;

  const upstreamAddr = (await echoUpstream(t)).host;

  const dir = mkdtempSync(join(tmpdir(), 'cells-auth-caddy-'));
  const port = await freePort();
  writeFileSync(join(dir, 'Caddyfile'), caddyfile(port, new URL(url).host, upstreamAddr));
  const env = { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const caddy = spawn(CADDY, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  caddy.stderr.on('data', (c) => (log += c));
  t.teardown(async () => {
    if (caddy.exitCode === null) {
      const exited = new Promise((r) => caddy.once('exit', r));
      caddy.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (caddy.exitCode !== null || i > 100) throw new Error(`caddy did not start: ${log}`);
    if (await fetch(base).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${base}${path}`, { method, headers });
  const seen = async (res: Response) => (await res.json()) as { url: string; headers: IncomingHttpHeaders };

  const ok = await get('/files/a.txt', { authorization: `Bearer ${good}`, 'x-auth-user': 'mallory', 'x-auth-scopes': 'node:forged:rw' });
  t.equal(ok.status, 200, 'a good PAT passes');
  const body = await seen(ok);
  t.equal(body.url, '/files/a.txt');
  t.equal(body.headers['x-auth-user'], 'alice', 'identity forwarded, the client’s own header replaced');
  t.equal(body.headers['x-auth-subject'], alice.id);
  t.not(body.headers['x-auth-scopes'], 'node:forged:rw', 'a forged X-Auth-Scopes does not survive');

  const bad = await get('/files/a.txt', { authorization: `Bearer ${good.slice(0, -2)}zz` });
  t.equal(bad.status, 401, 'a bad PAT: 401');
  t.match(bad.headers.get('www-authenticate'), /^Bearer realm="cells-auth"/);

  t.equal((await get(`/nodes/${A}/`, { authorization: `Bearer ${scoped}` })).status, 200, 'scoped PAT reads its node');
  t.equal((await get(`/nodes/${A}/`, { authorization: `Bearer ${scoped}` }, 'PUT')).status, 403, 'but may not write it');
  t.equal((await get(`/nodes/${B}/`, { authorization: `Bearer ${scoped}` })).status, 403, 'nor read another node');
});
