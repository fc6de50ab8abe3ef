import t from 'tap';
import {
  applicationTypeFor,
  expandPlaceholders,
  expandPortRange,
  expandRedirectPatterns,
  redirectUriProblem,
  RedirectPatternError,
} from '../../src/clients/redirect-rules.ts';
import { DEFAULT_CLIENTS, defaultClients } from '../../src/clients/default-clients.ts';

const ctx = { publicUrls: ['https://cells.example.com', 'http://10.0.0.5:8080'] };

t.test('port ranges are inclusive and nothing else', async (t) => {
  const uris = expandPortRange('http://localhost:[3636-3666]/servers/callback');
  t.equal(uris.length, 31);
  t.equal(uris[0], 'http://localhost:3636/servers/callback');
  t.equal(uris.at(-1), 'http://localhost:3666/servers/callback');
  t.notOk(uris.includes('http://localhost:3635/servers/callback'));
  t.notOk(uris.includes('http://localhost:3667/servers/callback'));
  t.same(expandPortRange('http://localhost:[8080-8080]'), ['http://localhost:8080'], 'a one-port range');
  t.same(expandPortRange('http://localhost:3000'), ['http://localhost:3000'], 'no range: unchanged');
});

t.test('bad port ranges are refused with the pattern named', async (t) => {
  t.throws(() => expandPortRange('http://localhost:[3666-3636]'), RedirectPatternError, 'descending');
  t.throws(() => expandPortRange('http://localhost:[0-10]'), /within 1-65535/);
  t.throws(() => expandPortRange('http://localhost:[65000-65536]'), /within 1-65535/);
  t.throws(() => expandPortRange('http://localhost:[1-5000]'), /at most 1024/);
  t.throws(() => expandPortRange('http://localhost:[a-b]'), /host:\[first-last\]/);
  t.throws(() => expandPortRange('http://localhost:[3636-3666'), /host:\[first-last\]/);
});

t.test('placeholders', async (t) => {
  t.same(expandPlaceholders('#default_bind#/auth/callback', ctx), ['https://cells.example.com/auth/callback']);
  t.same(expandPlaceholders('#binds...#/oauth2/oob', ctx), ['https://cells.example.com/oauth2/oob', 'http://10.0.0.5:8080/oauth2/oob']);
  t.same(expandPlaceholders('#insecure_binds...#/oob', ctx), ['http://10.0.0.5:8080/oob'], 'only the plain-http public URLs');
  t.same(expandPlaceholders('cellsauth://serverName', ctx), ['cellsauth://cells.example.com'], 'serverName is the host of the public URL');
  t.same(expandPlaceholders('cellsauth://serverName/cb', ctx), ['cellsauth://cells.example.com/cb']);
  t.same(expandPlaceholders('cellsauth://serverNameX', ctx), ['cellsauth://serverNameX'], 'only the whole word');
  t.throws(() => expandPlaceholders('#bind#/x', ctx), /unknown placeholder #bind#/);
  t.throws(() => expandPlaceholders('#default_bind#/x', { publicUrls: [] }), /no public URL/);
});

t.test('concrete URIs that cannot be registered', async (t) => {
  t.equal(redirectUriProblem('http://localhost:3636/servers/callback'), null);
  t.equal(redirectUriProblem('cellsauth://callback'), null);
  t.match(redirectUriProblem('/relative'), /absolute/);
  t.match(redirectUriProblem('http://localhost:3636/#x'), /fragment/);
  t.match(redirectUriProblem('http://localhost:3636/cb#'), /fragment/, 'an empty fragment too');
  t.match(redirectUriProblem('http://user@localhost:3636'), /user information/);
  t.match(redirectUriProblem('http://user:pw@localhost:3636'), /user information/);
  t.match(redirectUriProblem('javascript://x/%0aalert(1)'), /javascript/);
  t.match(redirectUriProblem('data:text/html,hi'), /data/);
  t.match(redirectUriProblem('http://localhost:3636/a/%2e%2e/b'), /dot path/);
  t.match(redirectUriProblem('http://localhost:3636/a/%2E%2E/b'), /dot path/);
  t.match(redirectUriProblem('http://localhost:3636/a/../b'), /dot path/, 'a dot segment the parser would resolve');
  t.match(redirectUriProblem('http://localhost:3636/a%2fb'), /dot path/);
  t.match(redirectUriProblem('http://localhost:3636/a b'), /spaces/);
  t.match(redirectUriProblem('http://localhost:3636/cb '), /spaces/, 'a trailing space the parser would trim');
  t.equal(redirectUriProblem('http://localhost:3636/cb?x=..'), null, 'dots in the query are data');
});

t.test('expansion: placeholders, then ranges, then checks; duplicates collapse', async (t) => {
  const uris = expandRedirectPatterns(['#binds...#/oauth2/oob', 'http://localhost:[3636-3637]', 'http://localhost:3636'], ctx);
  t.same(uris, ['https://cells.example.com/oauth2/oob', 'http://10.0.0.5:8080/oauth2/oob', 'http://localhost:3636', 'http://localhost:3637']);
  t.throws(() => expandRedirectPatterns(['http://localhost:[3636-3637]/#x'], ctx), /"http:\/\/localhost:3636\/#x" must not contain a fragment/);
});

t.test('application type: custom schemes need native, and native never mixes with loopback http', async (t) => {
  t.equal(applicationTypeFor(['http://localhost:3636', 'https://cells.example.com/oob']), 'web');
  t.equal(applicationTypeFor(['cellsauth://callback', 'https://cells.example.com/cb']), 'native');
  t.throws(() => applicationTypeFor(['cellsauth://callback', 'http://localhost:3636']), /cannot be combined/);
  t.throws(() => applicationTypeFor(['cellsauth://callback', 'https://localhost/cb']), /cannot be combined/);
  t.equal(applicationTypeFor([]), 'web');
});

t.test('the default clients expand as SPEC §2 says', async (t) => {
  const byId = Object.fromEntries(defaultClients({ publicUrls: ['https://cells.example.com'] }).map((c) => [c.client_id, c]));
  t.same(Object.keys(byId).sort(), ['cells-client', 'cells-mobile', 'cells-sync']);
  t.equal(byId['cells-sync']!.redirect_uris!.length, 31 * 2 + 2);
  t.same(byId['cells-mobile']!.redirect_uris, ['cellsauth://cells.example.com', 'cellsauth://callback']);
  t.equal(byId['cells-mobile']!.application_type, 'native');
  t.equal(byId['cells-sync']!.application_type, 'web', 'web: the provider would accept any loopback port for native');
  t.same(byId['cells-client']!.redirect_uris, [
    'http://localhost:3636',
    'http://localhost:3000/servers/callback',
    'https://cells.example.com/oauth/oob',
    'https://cells.example.com/oauth2/oob',
  ]);
  for (const c of Object.values(byId)) {
    t.equal(c.token_endpoint_auth_method, 'none', `${c.client_id} is public`);
    t.same(c.response_types, ['code']);
    t.same(c.grant_types, ['authorization_code', 'refresh_token']);
    t.equal(c.scope, 'openid email profile pydio offline offline_access');
    t.equal(c.first_party, true);
  }
  t.same(
    DEFAULT_CLIENTS.map((d) => [d.clientId, d.pkceRequired]),
    [
      ['cells-sync', true],
      ['cells-mobile', false],
      ['cells-client', false],
    ],
  );
});
