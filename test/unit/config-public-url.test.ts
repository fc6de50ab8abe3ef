import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

// The provider is mounted at <public URL>/oidc and the pages at the root: a public URL is an origin.

t.test('a public URL is an origin, with or without its trailing slash', async (t) => {
  const cases: Array<[string, string]> = [
    ['https://auth.example.com', 'https://auth.example.com'],
    ['https://auth.example.com/', 'https://auth.example.com'],
    ['http://127.0.0.1:8080//', 'http://127.0.0.1:8080'],
    ['https://[::1]:8443', 'https://[::1]:8443'],
  ];
  for (const [given, kept] of cases) {
    t.equal(loadConfig({ env: { CELLS_AUTH_PUBLIC_URL: given } }).publicUrl, kept, given);
  }
});

t.test('a public URL with a path is refused, naming the setting', async (t) => {
  for (const given of ['https://example.com/auth', 'https://example.com/auth/', 'https://example.com/oidc']) {
    t.throws(() => loadConfig({ env: { CELLS_AUTH_PUBLIC_URL: given } }), new ConfigError('config: publicUrl: must not have a path: cells-auth is served from the root of its host'), given);
  }
  t.throws(() => loadConfig({ env: {}, overrides: { extraPublicUrls: ['https://a.example', 'https://b.example/x'] } }), /^config: extraPublicUrls\.1: must not have a path/, 'the extra public URLs too');
});
