import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createContext } from '../../src/context.ts';
import type { DatabaseTarget } from '../../src/db/connect.ts';
import { createLogger } from '../../src/util/logger.ts';
import { dbKinds, freshDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/harness.ts';

// The commands as an operator runs them: a separate process, its own database, output on stdout, one
// line on stderr and a non-zero exit on failure.

const BIN = fileURLToPath(new URL('../../bin/cells-auth.js', import.meta.url));
const PUBLIC_URL = 'https://cells.example.com';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(env: Record<string, string>, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    // A clean environment: only what the command needs, nothing of the test runner's CELLS_AUTH_*.
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A database for the commands: a fresh Postgres one, or a PGlite directory. */
async function commandDatabase(t: Test, kind: 'pglite' | 'postgres'): Promise<{ env: Record<string, string>; target: DatabaseTarget; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cells-auth-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { CELLS_AUTH_PUBLIC_URL: PUBLIC_URL, CELLS_AUTH_DATA_DIR: dir, CELLS_AUTH_LOG_LEVEL: 'error' };
  if (kind === 'pglite') return { env, target: { kind: 'pglite', dir: join(dir, 'pglite') }, dir };
  const db = await freshDatabase('postgres');
  t.teardown(() => db.drop());
  return { env: { ...env, DATABASE_URL: db.url! }, target: db.target, dir };
}

function expectFailure(t: Test, r: Run, message: RegExp, what: string): void {
  t.equal(r.code, 1, `${what}: exit 1`);
  t.equal(r.stdout, '', `${what}: nothing on stdout`);
  t.match(r.stderr, new RegExp(`^cells-auth: ${message.source}\\n$`), `${what}: one line on stderr`);
}

for (const kind of dbKinds()) {
  t.test(`admin client create and clients list [${kind}]`, async (t) => {
    const { env, target, dir } = await commandDatabase(t, kind);

    const created = await run(env, ['admin', 'client', 'create', 'webapp', '--name', 'Web App', '--first-party', '--redirect-uri', 'https://app.example.com/cb', '--redirect-uri', 'http://localhost:[8000-8002]/cb']);
    t.equal(created.code, 0, created.stderr);
    t.match(created.stdout, /^created client webapp \(confidential, first-party\)\n/);
    t.match(created.stdout, /redirect URIs: +https:\/\/app\.example\.com\/cb http:\/\/localhost:\[8000-8002\]\/cb\n/);
    const secret = /^client secret: ([A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
    t.ok(secret, 'the generated secret is printed once');
    t.match(created.stdout, /shown once/);

    const piped = 'an-operator-chosen-secret-for-the-api';
    const api = await run(env, ['admin', 'client', 'create', 'files-api', '--introspect', '--secret-stdin'], `${piped}\n`);
    t.equal(api.code, 0, api.stderr);
    t.match(api.stdout, /\(confidential, consent screen, introspect\)/);
    t.notMatch(api.stdout, /client secret/, 'a secret read from stdin is not printed');
    t.notOk(api.stdout.includes(piped));

    const pub = await run(env, ['admin', 'client', 'create', 'native-app', '--public', '--redirect-uri', 'myapp://callback']);
    t.equal(pub.code, 0, pub.stderr);
    t.match(pub.stdout, /\(public, consent screen\)/);
    t.match(pub.stdout, /PKCE: +required/);
    t.notMatch(pub.stdout, /secret/);

    const listed = await run(env, ['clients', 'list']);
    t.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split('\n');
    t.match(lines[0], /^ID +SOURCE +TYPE/);
    t.same(lines.slice(1).map((l) => l.split(/ +/).slice(0, 3)), [
      ['cells-sync', 'default', 'public'],
      ['cells-mobile', 'default', 'public'],
      ['cells-client', 'default', 'public'],
      ['files-api', 'database', 'confidential'],
      ['native-app', 'database', 'public'],
      ['webapp', 'database', 'confidential'],
    ]);
    t.notOk(listed.stdout.includes(secret!), 'the list never shows a secret');

    const json = await run(env, ['clients', 'list', '--json']);
    t.equal(json.code, 0);
    const views = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    t.match(views.find((v) => v.clientId === 'webapp'), { source: 'database', type: 'confidential', firstParty: true, redirectUris: ['https://app.example.com/cb', 'http://localhost:[8000-8002]/cb'] });
    t.notOk(json.stdout.includes('sha256'), 'nor a digest');

    // The printed secrets work against a server on that database; only their digests were stored.
    const port = await freePort();
    const config = loadConfig({ env: {}, overrides: { publicUrl: `http://127.0.0.1:${port}`, dataDir: dir, log: { level: 'silent' } } });
    const ctx = await createContext(config, { database: target, log: createLogger('silent') });
    t.teardown(() => ctx.close());
    const app = await buildApp(ctx);
    await app.listen({ host: '127.0.0.1', port });
    t.teardown(() => app.close());
    const introspect = (id: string, s: string) =>
      fetch(`http://127.0.0.1:${port}/oidc/oauth2/introspect`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${id}:${s}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=x',
      }).then((r) => r.status);
    t.equal(await introspect('files-api', piped), 200, 'the piped secret authenticates');
    t.equal(await introspect('webapp', secret!), 200, 'the printed secret authenticates');
    t.equal(await introspect('webapp', `${secret}x`), 401, 'another does not');
    const stored = await sql<{ id: string; secret: string }>`select client_id as id, metadata->>'client_secret' as secret from clients order by client_id`.execute(ctx.db.db);
    const digest = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
    t.same(stored.rows, [
      { id: 'files-api', secret: digest(piped) },
      { id: 'native-app', secret: null },
      { id: 'webapp', secret: digest(secret!) },
    ], 'digests only');
  });

  // Every refusal below happens before or in the service, whatever the database: one run (on the
  // database the brief names, Postgres) is enough, and each spawned command costs a second or two.
  if (kind === 'postgres' || !dbKinds().includes('postgres')) t.test(`client commands fail with one line and exit 1 [${kind}]`, async (t) => {
    const { env } = await commandDatabase(t, kind);
    t.equal((await run(env, ['admin', 'client', 'create', 'webapp', '--public', '--redirect-uri', 'https://a.example/cb'])).code, 0);
    const cases: Array<[string[], RegExp, string?]> = [
      [['admin', 'client', 'create', 'webapp', '--public', '--redirect-uri', 'https://b.example/cb'], /a client with id "webapp" already exists/],
      [['admin', 'client', 'create', 'cells-sync', '--public', '--redirect-uri', 'https://b.example/cb'], /client "cells-sync" is a default client: choose another id/],
      [['admin', 'client', 'create', 'x', '--public', '--redirect-uri', 'https://b.example/cb#frag'], /--redirect-uri: redirect URI "https:\/\/b\.example\/cb#frag" must not contain a fragment/],
      [['admin', 'client', 'create', 'x', '--public', '--redirect-uri', 'http://localhost:[9000-8000]'], /--redirect-uri: "http:\/\/localhost:\[9000-8000\]": the port range must be ascending within 1-65535/],
      [['admin', 'client', 'create', 'x', '--public', '--grant', 'password', '--redirect-uri', 'https://b.example/cb'], /--grant #1: expected one of authorization_code, refresh_token/],
      [['admin', 'client', 'create', 'x', '--public'], /--grant: a client needs at least one grant, or introspect/],
      [['admin', 'client', 'create', 'x', '--public', '--introspect'], /--introspect: only a confidential client \(one with a secret\) may introspect/],
      [['admin', 'client', 'create', 'x', '--public', '--secret-stdin'], /--public and --secret-stdin exclude each other: a public client has no secret/, 'a-long-enough-secret-value'],
      [['admin', 'client', 'create', 'x', '--secret-stdin', '--introspect'], /the secret: must be at least 16 characters/, 'short\n'],
      [['admin', 'client', 'create', 'bad id', '--public', '--redirect-uri', 'https://b.example/cb'], /ID: letters, digits and \. _ : - only, starting with a letter or digit, at most 128/],
    ];
    for (const [args, message, input] of cases) {
      expectFailure(t, await run(env, args, input), message, args.slice(3).join(' '));
    }
    const usage = await run(env, ['admin', 'client', 'create']);
    t.equal(usage.code, 1, 'a missing argument: exit 1');
    t.match(usage.stderr, /missing required argument 'id'/);
    const listed = JSON.parse((await run(env, ['clients', 'list', '--json'])).stdout) as unknown[];
    t.equal(listed.length, 4, 'none of the failures stored anything');
  });

  t.test(`the clients file: listed with its source; a bad one stops every command [${kind}]`, async (t) => {
    const { env, dir } = await commandDatabase(t, kind);
    const good = join(dir, 'clients.json');
    writeFileSync(
      good,
      JSON.stringify({
        staticClients: [
          { client_id: 'cells-sync', client_name: 'CellsSync Application', redirect_uris: ['http://localhost:[3636-3666]/servers/callback'], response_types: ['code', 'token', 'id_token'], scope: 'openid email profile pydio offline' },
          { client_id: 'cells-frontend', redirect_uris: ['#default_bind#/auth/callback'], scope: 'openid email profile pydio offline' },
        ],
      }),
    );
    const configFile = (clientsFile: string) => {
      const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(path, `clientsFile: ${JSON.stringify(clientsFile)}\n`);
      return path;
    };
    const listed = await run(env, ['--config', configFile(good), 'clients', 'list', '--json']);
    t.equal(listed.code, 0, listed.stderr);
    const views = JSON.parse(listed.stdout) as Array<{ clientId: string; source: string; redirectUris: string[] }>;
    t.same(views.map((v) => [v.clientId, v.source]), [
      ['cells-sync', 'file'],
      ['cells-mobile', 'default'],
      ['cells-client', 'default'],
      ['cells-frontend', 'file'],
    ]);
    t.same(views[0]!.redirectUris, ['http://localhost:[3636-3666]/servers/callback'], 'the file client replaced the default one');
    const text = await run(env, ['--config', configFile(good), 'clients', 'list']);
    t.match(text.stdout, /\ncells-frontend +file +public/);

    const clash = await run(env, ['--config', configFile(good), 'admin', 'client', 'create', 'cells-frontend', '--public', '--redirect-uri', 'https://a.example/cb']);
    expectFailure(t, clash, /client "cells-frontend" is a client of the clients file: choose another id/, 'an id of the file');

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'staticClients:\n  - client_id: cells-sync\n    redirect_uris: ["http://localhost:[3636-3666]/servers/callback"]\n  - client_id: broken\n    redirect_uris: ["http://evil@localhost:3636"]\n');
    const message = /clients file \S+bad\.yaml: client "broken": redirect_uris: redirect URI "http:\/\/evil@localhost:3636" must not contain user information/;
    expectFailure(t, await run(env, ['--config', configFile(bad), 'clients', 'list']), message, 'clients list');
    const port = await freePort();
    const start = await run({ ...env, CELLS_AUTH_BIND: `127.0.0.1:${port}` }, ['--config', configFile(bad), 'start']);
    expectFailure(t, start, message, 'start');
    expectFailure(t, await run(env, ['--config', configFile(join(dir, 'missing.json')), 'clients', 'list']), /clients file \S+missing\.json: cannot read it \(ENOENT\)/, 'a missing file');
  });
}
