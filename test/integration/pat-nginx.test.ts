import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp, freePort } from '../helpers/harness.ts';
import { makeUser, mintFor, echoUpstream } from '../helpers/pat.ts';

// End to end with a real reverse proxy: Debian's nginx, `auth_request` to /a/auth/verify in front of
// a tiny upstream, driven with curl — the README's snippet, run.

const NGINX = '/usr/sbin/nginx';
const A = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';
const B = '7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d';

function nginxConf(dir: string, port: number, app: string, upstream: string): string {
  return `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  # The node a request is about, and the permission its method needs.
  map $request_uri $cells_node { "~^/nodes/(?<n>[0-9a-fA-F-]{36})(/|$)" $n; default ""; }
  map $request_method $cells_perm { GET r; HEAD r; default w; }

  server {
    listen 127.0.0.1:${port};

    location = /_cells_auth {
      internal;
      proxy_pass ${app}/a/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
    location = /_cells_auth_node {
      internal;
      proxy_pass ${app}/a/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Auth-Node $cells_node;
      proxy_set_header X-Auth-Permission $cells_perm;
    }

    location /nodes/ {
      auth_request /_cells_auth_node;
      auth_request_set $auth_user $upstream_http_x_auth_user;
      auth_request_set $auth_subject $upstream_http_x_auth_subject;
      proxy_set_header X-Auth-User $auth_user;
      proxy_set_header X-Auth-Subject $auth_subject;
      proxy_pass ${upstream};
    }
    location / {
      auth_request /_cells_auth;
      auth_request_set $auth_user $upstream_http_x_auth_user;
      auth_request_set $auth_subject $upstream_http_x_auth_subject;
      auth_request_set $auth_scopes $upstream_http_x_auth_scopes;
      proxy_set_header X-Auth-User $auth_user;
      proxy_set_header X-Auth-Subject $auth_subject;
      proxy_set_header X-Auth-Scopes $auth_scopes;
      proxy_pass ${upstream};
    }
  }
}
`;
}

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-i', '--max-time', '10', ...args], (err, stdout) => {
      if (err) return reject(err);
      const [head = '', ...rest] = stdout.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

async function waitForPort(port: number, log: string, stderr: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nginx did not start: ${stderr()} ${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
}

const kind = dbKinds()[0]!;

t.test(`nginx auth_request in front of an upstream [${kind}]`, async (t) => {
  // A missing proxy fails the test (a skip would prove nothing): .ci/run installs Debian's nginx.
  if (!existsSync(NGINX)) throw new Error('nginx is not installed (apt-get install nginx)');
  const { ctx, url } = await buildTestApp(t, { kind });
  const alice = await makeUser(ctx, 'alice');
  const good = (await mintFor(ctx, alice.id, { expire: '1h' })).token;
  const scoped = (await mintFor(ctx, alice.id, { expire: '1h', scopes: `node:${A}:r` })).token;

  const upstreamUrl = `http://${(await echoUpstream(t)).host}`;

  const dir = mkdtempSync(join(tmpdir(), 'cells-auth-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf(dir, port, url, upstreamUrl));
  const nginx = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let nginxStderr = '';
  nginx.stderr.on('data', (c) => (nginxStderr += c));
  t.teardown(async () => {
    if (nginx.exitCode === null) {
      const exited = new Promise((r) => nginx.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port, join(dir, 'error.log'), () => nginxStderr);
  const base = `http://127.0.0.1:${port}`;
  const seen = (r: CurlResult) => JSON.parse(r.body) as { url: string; headers: IncomingHttpHeaders };

  const ok = await curl(['-H', `Authorization: Bearer ${good}`, '-H', 'X-Auth-User: mallory', '-H', 'X-Auth-Scopes: node:forged:rw', `${base}/files/report.pdf`]);
  t.equal(ok.status, 200, 'a good PAT passes');
  t.equal(seen(ok).url, '/files/report.pdf', 'to the upstream');
  t.equal(seen(ok).headers['x-auth-user'], 'alice', 'identity forwarded (and a client’s own X-Auth-User replaced)');
  t.equal(seen(ok).headers['x-auth-subject'], alice.id);
  t.equal(seen(ok).headers['x-auth-scopes'], undefined, 'an unscoped token sends no scopes, and a forged header does not survive');

  const viaBasic = await curl(['-u', `alice:${good}`, `${base}/dav/`]);
  t.equal(viaBasic.status, 200, 'Basic login:PAT passes too (WebDAV-style clients)');

  const bad = await curl(['-H', `Authorization: Bearer ${good.slice(0, -2)}zz`, `${base}/files/report.pdf`]);
  t.equal(bad.status, 401, 'a bad PAT: 401');
  t.match(bad.headers['www-authenticate'], /^Bearer realm="cells-auth", error="invalid_token"/, 'the challenge reaches the client');
  t.notMatch(bad.body, /"url"/, 'the upstream was not reached');
  t.equal((await curl([`${base}/files/report.pdf`])).status, 401, 'no credentials: 401');

  const read = await curl(['-H', `Authorization: Bearer ${scoped}`, `${base}/nodes/${A}/`]);
  t.equal(read.status, 200, 'a node-scoped PAT reads its node');
  t.equal(seen(read).headers['x-auth-user'], 'alice');
  const write = await curl(['-X', 'PUT', '-H', `Authorization: Bearer ${scoped}`, '--data', 'x', `${base}/nodes/${A}/`]);
  t.equal(write.status, 403, 'but may not write it: 403');
  const other = await curl(['-H', `Authorization: Bearer ${scoped}`, `${base}/nodes/${B}/`]);
  t.equal(other.status, 403, 'nor read another node: 403');
  const wide = await curl(['-X', 'PUT', '-H', `Authorization: Bearer ${good}`, '--data', 'x', `${base}/nodes/${B}/`]);
  t.equal(wide.status, 200, 'an unscoped PAT is not limited by node');

  const [listed] = (await ctx.pats.list(alice.id)).filter((p) => p.scopes.length === 0);
  t.equal(listed!.lastUsedFrom, '127.0.0.1', 'uses recorded (the proxy’s address: trustedProxies makes it the client’s)');
});
