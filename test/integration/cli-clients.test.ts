import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createContext } from '../../src/context.ts';
import { createLogger } from '../../src/util/logger.ts';
import { commandDatabase, runCli } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';
import { freePort } from '../helpers/harness.ts';

// The commands as an operator runs them: a separate process, its own database, output on stdout, one
// line on stderr and a non-zero exit on failure.

const PUBLIC_URL = 'https://cells.example.com';

const run = (env: Record<string, string>, args: string[], input?: string) => runCli(args, { env, input });

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
}
