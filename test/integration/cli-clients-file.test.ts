import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { commandDatabase, expectCliFailure, runCli } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';
import { freePort } from '../helpers/harness.ts';

// The clients file as an operator uses it through the commands: its clients listed with their source,
// and a bad file stopping every command (start included) with one line that names the client.

const run = (env: Record<string, string>, args: string[], input?: string) => runCli(args, { env, input });

for (const kind of dbKinds()) {
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
    expectCliFailure(t, clash, /client "cells-frontend" is a client of the clients file: choose another id/, 'an id of the file');

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'staticClients:\n  - client_id: cells-sync\n    redirect_uris: ["http://localhost:[3636-3666]/servers/callback"]\n  - client_id: broken\n    redirect_uris: ["http://evil@localhost:3636"]\n');
    const message = /clients file \S+bad\.yaml: client "broken": redirect_uris: redirect URI "http:\/\/evil@localhost:3636" must not contain user information/;
    expectCliFailure(t, await run(env, ['--config', configFile(bad), 'clients', 'list']), message, 'clients list');
    const port = await freePort();
    const start = await run({ ...env, CELLS_AUTH_BIND: `127.0.0.1:${port}` }, ['--config', configFile(bad), 'start']);
    expectCliFailure(t, start, message, 'start');
    expectCliFailure(t, await run(env, ['--config', configFile(join(dir, 'missing.json')), 'clients', 'list']), /clients file \S+missing\.json: cannot read it \(ENOENT\)/, 'a missing file');
  });
}
