import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseClientsDocument, readClientsFile, ClientsFileError } from '../../src/clients/clients-file.ts';
import { clientSecretMatches } from '../../src/clients/client-secret.ts';
import { toProviderMetadata } from '../../src/clients/client-definition.ts';
import { loadStaticClients } from '../../src/clients/static-clients.ts';

const ctx = { publicUrls: ['https://cells.example.com'] };

// Cells' own list, as `pydio.json` holds it under `services["pydio.web.oauth"].staticClients`.
const CELLS_STATIC_CLIENTS = [
  {
    client_id: 'cells-frontend',
    client_name: 'CellsFrontend Application',
    grant_types: ['authorization_code', 'refresh_token'],
    post_logout_redirect_uris: ['#default_bind#/auth/logout'],
    redirect_uris: ['#default_bind#/auth/callback'],
    response_types: ['code', 'token', 'id_token'],
    revokeRefreshTokenAfterInactivity: '2h',
    scope: 'openid email profile pydio offline',
  },
  {
    client_id: 'cells-sync',
    client_name: 'CellsSync Application',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: ['http://localhost:3000/servers/callback', 'http://localhost:[3636-3666]/servers/callback'],
    response_types: ['code', 'token', 'id_token'],
    scope: 'openid email profile pydio offline',
  },
  {
    client_id: 'cells-client',
    client_name: 'Cells Client CLI Tool',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: ['http://localhost:3000/servers/callback', '#binds...#/oauth2/oob'],
    response_types: ['code', 'token', 'id_token'],
    scope: 'openid email profile pydio offline',
  },
  {
    client_id: 'cells-mobile',
    client_name: 'Mobile Applications',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: ['cellsauth://callback'],
    response_types: ['code', 'token', 'id_token'],
    scope: 'openid email profile pydio offline',
  },
];

const dir = mkdtempSync(join(tmpdir(), 'cells-auth-clients-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

t.test("Cells' staticClients, pasted as JSON ({ staticClients }) and as a bare array", async (t) => {
  for (const text of [JSON.stringify({ staticClients: CELLS_STATIC_CLIENTS }, null, 2), JSON.stringify(CELLS_STATIC_CLIENTS)]) {
    const { definitions, warnings } = readClientsFile(file('cells.json', text), ctx);
    t.same(definitions.map((d) => d.clientId), ['cells-frontend', 'cells-sync', 'cells-client', 'cells-mobile']);
    t.same(warnings, ['client "cells-frontend": ignoring field revokeRefreshTokenAfterInactivity']);
    const byId = Object.fromEntries(definitions.map((d) => [d.clientId, toProviderMetadata(d, ctx)]));
    const front = byId['cells-frontend']!;
    t.same(front.redirect_uris, ['https://cells.example.com/auth/callback'], '#default_bind# is the public URL');
    t.same(front.post_logout_redirect_uris, ['https://cells.example.com/auth/logout']);
    t.same(front.response_types, ['code'], 'code token id_token narrows to code');
    t.equal(front.scope, 'openid email profile pydio offline offline_access', 'offline brings offline_access');
    t.equal(front.first_party, true, 'Cells shows no consent screen');
    t.equal(front.token_endpoint_auth_method, 'none');
    t.equal(front.pkce_required, false);
    t.equal(byId['cells-sync']!.pkce_required, true, 'what the desktop client sends is known');
    t.equal(byId['cells-sync']!.redirect_uris!.length, 32);
    t.same(byId['cells-client']!.redirect_uris, ['http://localhost:3000/servers/callback', 'https://cells.example.com/oauth2/oob']);
    t.equal(byId['cells-mobile']!.client_name, 'Mobile Applications');
  }
});

t.test('YAML, in our shape', async (t) => {
  const path = file(
    'clients.yaml',
    `clients:
  - clientId: grafana
    name: Grafana
    secret: a-long-enough-secret-for-grafana
    redirectUris: ["https://grafana.example.com/login/generic_oauth"]
    firstParty: true
  - clientId: files-api
    secret: another-long-enough-secret
    introspect: true
  - clientId: my-native
    public: true
    redirectUris: ["http://localhost:[8000-8002]/cb"]
`,
  );
  const { definitions } = readClientsFile(path, ctx);
  const [grafana, api, native] = definitions.map((d) => toProviderMetadata(d, ctx));
  t.equal(grafana!.token_endpoint_auth_method, 'client_secret_basic');
  t.not(grafana!.client_secret, 'a-long-enough-secret-for-grafana', 'the secret is not kept as written');
  t.ok(clientSecretMatches('a-long-enough-secret-for-grafana', grafana!.client_secret), 'its digest is');
  t.equal(grafana!.first_party, true);
  t.equal(grafana!.pkce_required, false, 'optional for a confidential client');
  t.same(api!.grant_types, [], 'a resource server has no grant');
  t.equal(api!.introspect, true);
  t.same(native!.redirect_uris, ['http://localhost:8000/cb', 'http://localhost:8001/cb', 'http://localhost:8002/cb']);
  t.equal(native!.pkce_required, true, 'required for a public client');
  t.equal(native!.first_party, false, 'an operator client gets a consent screen unless marked');
});

t.test('a file client with the id of a default client replaces it; others are added', async (t) => {
  const path = file('replace.yaml', 'staticClients:\n  - client_id: cells-sync\n    redirect_uris: ["http://localhost:4000/cb"]\n  - client_id: extra\n    redirect_uris: ["https://app.example.com/cb"]\n');
  const { clients } = loadStaticClients({ ...ctx, clientsFile: path });
  t.same(clients.map((c) => [c.metadata.client_id, c.source]), [
    ['cells-sync', 'file'],
    ['cells-mobile', 'default'],
    ['cells-client', 'default'],
    ['extra', 'file'],
  ]);
  t.same(clients[0]!.metadata.redirect_uris, ['http://localhost:4000/cb'], 'replaced, not merged');
  t.equal(clients[0]!.metadata.client_name, 'CellsSync Application', 'the known name when the entry has none');
  t.same(loadStaticClients(ctx).clients.map((c) => c.source), ['default', 'default', 'default'], 'no file: the defaults');
});

t.test('an empty file adds nothing', async (t) => {
  t.same(readClientsFile(file('empty.yaml', ''), ctx).definitions, []);
  t.same(parseClientsDocument({ staticClients: [] }, ctx).definitions, []);
});

// Each bad input: the one line names the file (when read), the client and the field.
const BAD: Array<[string, unknown, RegExp]> = [
  ['not a list', { foo: 1 }, /expected a list of clients/],
  ['a string', 'hello', /expected a list of clients/],
  ['no client_id', [{ redirect_uris: ['http://localhost:1/cb'] }], /^client #1: client_id: /],
  ['a fragment', [{ client_id: 'a', redirect_uris: ['http://localhost:1/cb#x'] }], /^client "a": redirect_uris: redirect URI "http:\/\/localhost:1\/cb#x" must not contain a fragment$/],
  ['a bad range', [{ client_id: 'a', redirect_uris: ['http://localhost:[9-1]'] }], /^client "a": redirect_uris: .*ascending/],
  ['an unknown placeholder', [{ client_id: 'a', redirect_uris: ['#bind#/cb'] }], /^client "a": redirect_uris: .*unknown placeholder/],
  ['implicit', [{ client_id: 'a', grant_types: ['implicit'], redirect_uris: ['https://a/cb'] }], /^client "a": grant_types: "implicit" is not supported/],
  ['token only', [{ client_id: 'a', response_types: ['token'], redirect_uris: ['https://a/cb'] }], /^client "a": response_types: only code/],
  ['unknown scope', [{ client_id: 'a', scope: 'openid admin', redirect_uris: ['https://a/cb'] }], /^client "a": scope: unknown scope "admin"/],
  ['no redirect URI', [{ client_id: 'a' }], /^client "a": redirect_uris: at least one/],
  ['a bad id', [{ client_id: 'a b', redirect_uris: ['https://a/cb'] }], /^client "a b": client_id: /],
  ['listed twice', [{ client_id: 'a', redirect_uris: ['https://a/cb'] }, { client_id: 'a', redirect_uris: ['https://a/cb'] }], /^client "a": listed twice$/],
  ['secret with none', [{ client_id: 'a', client_secret: 'x'.repeat(20), token_endpoint_auth_method: 'none', redirect_uris: ['https://a/cb'] }], /^client "a": client_secret: /],
  ['basic without secret', [{ client_id: 'a', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://a/cb'] }], /^client "a": client_secret: required/],
  ['a short secret', [{ client_id: 'a', client_secret: 'short', redirect_uris: ['https://a/cb'] }], /^client "a": client_secret: /],
  ['jwt auth', [{ client_id: 'a', token_endpoint_auth_method: 'private_key_jwt', redirect_uris: ['https://a/cb'] }], /^client "a": token_endpoint_auth_method: /],
  ['public introspect', [{ client_id: 'a', introspect: true, redirect_uris: ['https://a/cb'] }], /^client "a": introspect: only a confidential/],
  ['custom scheme + loopback', [{ client_id: 'a', redirect_uris: ['myapp://cb', 'http://localhost:1/cb'] }], /^client "a": redirect_uris: .*cannot be combined/],
  ['ours: unknown field', { clients: [{ clientId: 'a', public: true, redirectUri: 'x' }] }, /^client "a": redirectUri: unknown field$/],
  ['ours: confidential without secret', { clients: [{ clientId: 'a', redirectUris: ['https://a/cb'] }] }, /^client "a": secret: required for a confidential client in a file/],
  ['ours: public with secret', { clients: [{ clientId: 'a', public: true, secret: 'x'.repeat(20), redirectUris: ['https://a/cb'] }] }, /^client "a": secret: a public client has no secret/],
  ['ours: bad grant', { clients: [{ clientId: 'a', public: true, grants: ['password'] }] }, /^client "a": grants\.0: /],
];

for (const [name, doc, message] of BAD) {
  t.test(`refused: ${name}`, async (t) => {
    t.throws(() => parseClientsDocument(doc, ctx), { name: 'ClientsFileError', message });
  });
}

t.test('file-level failures name the file, in one line', async (t) => {
  const missing = join(dir, 'missing.yaml');
  t.throws(() => readClientsFile(missing, ctx), { message: `clients file ${missing}: cannot read it (ENOENT)` });
  const broken = file('broken.json', '{"staticClients": [');
  t.throws(() => readClientsFile(broken, ctx), { message: new RegExp(`^clients file ${broken}: not valid JSON or YAML: [^\\n]+$`) });
  const bad = file('bad.yaml', 'staticClients:\n  - client_id: x\n    redirect_uris: ["http://u@localhost:1"]\n');
  const err = t.throws(() => loadStaticClients({ ...ctx, clientsFile: bad })) as Error;
  t.type(err, ClientsFileError);
  t.equal(err.message, `clients file ${bad}: client "x": redirect_uris: redirect URI "http://u@localhost:1" must not contain user information`);
  t.notOk(err.message.includes('\n'), 'one line');
});
