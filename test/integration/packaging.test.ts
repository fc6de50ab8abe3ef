import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { freePort } from '../helpers/harness.ts';
import { startTestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tls.ts';

// No Docker engine here: what can be checked without one is checked against the real files.

const run = promisify(execFile);
const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const pkg = JSON.parse(readFileSync(root('package.json'), 'utf8'));

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

t.test('Dockerfile: Node 22 stages, production deps, non-root, health check, the npm start command', async (t) => {
  const steps = instructions(readFileSync(root('docker/Dockerfile'), 'utf8'));
  const image = steps.find((s) => s.op === 'ARG' && s.args.startsWith('NODE_IMAGE='))!.args.split('=')[1]!;
  t.match(image, /^node:22[-.]/, 'the base is Node 22 LTS');
  t.equal(Number(pkg.engines.node.match(/(\d+)/)[1]), 22, 'as package.json engines asks');
  const froms = steps.filter((s) => s.op === 'FROM');
  t.same(froms.map((f) => f.args), ['${NODE_IMAGE} AS deps', '${NODE_IMAGE} AS runtime'], 'two stages: deps, runtime');

  const depsStage = steps.slice(steps.indexOf(froms[0]!), steps.indexOf(froms[1]!));
  t.ok(depsStage.some((s) => s.op === 'RUN' && /\bnpm ci --omit=dev\b/.test(s.args)), 'npm ci --omit=dev from the lock file');
  t.ok(depsStage.some((s) => s.op === 'COPY' && s.args === 'package.json package-lock.json ./'), 'the lock file is copied before npm ci');
  const lock = JSON.parse(readFileSync(root('package-lock.json'), 'utf8'));
  t.equal(lock.packages['node_modules/node']?.dev, true, 'the `node` package is dev-only in the lock, so --omit=dev leaves it out');

  const runtime = steps.slice(steps.indexOf(froms[1]!));
  const user = runtime.filter((s) => s.op === 'USER').at(-1);
  t.ok(user && !/^(root|0)(:|$)/.test(user.args), `runs as an unprivileged user (${user?.args})`);
  t.ok(runtime.indexOf(user!) < runtime.findIndex((s) => s.op === 'CMD'), 'USER comes before CMD');
  t.ok(runtime.some((s) => s.op === 'VOLUME' && s.args.includes('/data')), 'the data directory is a volume');
  t.ok(runtime.some((s) => s.op === 'ENV' && s.args.includes('CELLS_AUTH_DATA_DIR=/data')), 'and it is the data directory');
  const health = runtime.find((s) => s.op === 'HEALTHCHECK');
  t.ok(health, 'HEALTHCHECK present');
  t.match(health!.args, /CMD \["node", "docker\/healthcheck\.mjs"\]/);
  t.match(readFileSync(root('docker/healthcheck.mjs'), 'utf8'), "path: '/healthz'", 'it asks /healthz');

  const cmd = JSON.parse(runtime.find((s) => s.op === 'CMD')!.args) as string[];
  t.same(cmd, ['node', 'bin/cells-auth.js', 'start']);
  t.equal(cmd.join(' '), pkg.scripts.start, 'CMD is what `npm start` runs');
  t.match(readFileSync(root('README.md'), 'utf8'), 'npm start', 'which the README gives as the way to start');

  for (const copy of runtime.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))) {
    const sources = copy.args.split(/\s+/).slice(0, -1);
    for (const src of sources) t.ok(existsSync(root(src)), `COPY source ${src} exists`);
  }
});

t.test('.dockerignore keeps local state and dependencies out, and nothing the image copies', async (t) => {
  const ignored = readFileSync(root('.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const p of ['node_modules', 'data', '.git', 'config/local.yaml']) t.ok(ignored.includes(p), `${p} is ignored`);
  for (const p of ['bin', 'src', 'migrations', 'config/default.yaml', 'docker', 'package.json', 'package-lock.json']) t.notOk(ignored.includes(p), `${p} is sent`);
});

t.test('compose: two replicas behind caddy, one Postgres', async (t) => {
  const compose = parse(readFileSync(root('docker/compose.yaml'), 'utf8'), { merge: true });
  const services = compose.services as Record<string, Record<string, any>>;
  const replicas = Object.entries(services).filter(([, s]) => s.build?.dockerfile === 'docker/Dockerfile');
  t.equal(replicas.length, 2, 'two cells-auth replicas built from docker/Dockerfile');
  t.match(services.postgres?.image, /^postgres:/, 'one Postgres');
  t.match(services.caddy?.image, /^caddy:/, 'caddy in front');
  t.same(Object.keys(services).sort(), ['auth-1', 'auth-2', 'caddy', 'postgres']);

  const pgUser = services.postgres!.environment.POSTGRES_USER;
  const pgDb = services.postgres!.environment.POSTGRES_DB;
  for (const [name, s] of replicas) {
    t.match(s.environment.DATABASE_URL, new RegExp(`^postgres://${pgUser}:[^@]+@postgres:5432/${pgDb}$`), `${name}: DATABASE_URL names the postgres service`);
    t.ok(s.environment.CELLS_AUTH_PUBLIC_URL, `${name}: CELLS_AUTH_PUBLIC_URL set`);
    t.equal(s.depends_on?.postgres?.condition, 'service_healthy', `${name}: waits for Postgres`);
    t.notOk(s.ports, `${name}: not published; only the proxy reaches it`);
    t.equal(new Set(s.volumes).size, 1);
  }
  t.not(replicas[0]![1].volumes[0], replicas[1]![1].volumes[0], 'each replica has its own data volume');
  t.same(services.caddy!.ports.filter((p: string) => p.startsWith('443:')).length > 0, true, 'caddy publishes 443');

  // The replicas' settings file: it loads, and its trustedProxies is the compose network.
  const settings = compose.configs['cells-auth-settings'].file as string;
  const config = loadConfig({ env: { DATABASE_URL: 'postgres://cells:x@postgres:5432/cells_auth', CELLS_AUTH_PUBLIC_URL: 'https://localhost' }, file: root(`docker/${settings}`) });
  t.equal(config.tls.mode, 'none', 'caddy terminates TLS');
  t.same(config.trustedProxies, compose.networks.cells.ipam.config.map((c: { subnet: string }) => c.subnet), 'the proxy network is trusted');

  // The Caddyfile, adapted by the real caddy, balances over exactly the replicas, on their port.
  const { stdout } = await run('caddy', ['adapt', '--config', root('docker/Caddyfile'), '--adapter', 'caddyfile']);
  const proxy = JSON.stringify(JSON.parse(stdout));
  const port = config.bind.split(':').at(-1);
  const dials = [...proxy.matchAll(/"dial":"([^"]+)"/g)].map((m) => m[1]).sort();
  t.same(dials, replicas.map(([name]) => `${name}:${port}`).sort(), 'caddy sends traffic to both replicas');
  t.match(proxy, '"uri":"/readyz"', 'and only to ready ones');
  t.match(services.caddy!.volumes.join(' '), './Caddyfile:/etc/caddy/Caddyfile');
});

t.test('the health check script answers 0 for a live server (http or https) and 1 otherwise', async (t) => {
  const script = root('docker/healthcheck.mjs');
  const probe = (port: number) =>
    run(process.execPath, [script], { env: { PATH: process.env.PATH, CELLS_AUTH_BIND: `0.0.0.0:${port}` } }).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
  const plain = await startTestServer(t, {});
  t.equal(await probe(plain.port), 0, 'plain HTTP');
  const tls = await startTestServer(t, { config: { publicUrl: 'https://cells.example.test', dataDir: await tempDir(t), tls: { mode: 'self' } } });
  t.equal(await probe(tls.port), 0, 'TLS (a certificate for another name is fine for a liveness probe)');
  t.equal(await probe(await freePort()), 1, 'nothing listening');
});
