import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tls.ts';

// A misspelt setting must stop the start naming it: silently ignored, it leaves the default in
// force (a throttle at 30 where the operator wrote 3, plain HTTP where they asked for TLS).

const settingsFile = async (t: Parameters<typeof tempDir>[0], text: string) => {
  const file = join(await tempDir(t), 'cells.yaml');
  await writeFile(file, text);
  return file;
};

t.test('an unknown key is refused with its path and the keys known there', async (t) => {
  t.throws(() => loadConfig({ env: {}, overrides: { login: { throtle: { perAddress: 3 } } } }), {
    message: 'config: login: unknown setting "throtle" (known here: lockoutThreshold, throttle)',
  });
  t.throws(() => loadConfig({ env: {}, overrides: { login: { throttle: { perAdress: 3 } } } }), {
    message: 'config: login.throttle: unknown setting "perAdress" (known here: perAddress, windowSeconds)',
  });
  t.throws(() => loadConfig({ env: {}, overrides: { http: { foo: 1, bar: 2 } } }), { message: /^config: http: unknown settings "foo", "bar" \(known here: connectionTimeoutSeconds, / });
  t.throws(() => loadConfig({ env: {}, overrides: { public_url: 'https://cells.example.test' } }), {
    message: /^config: unknown setting "public_url" \(known here: publicUrl, extraPublicUrls, bind, /,
  });
});

t.test('under tls, the keys known are those of the mode chosen', async (t) => {
  t.throws(() => loadConfig({ env: {}, overrides: { tls: { mode: 'self', host: ['cells.local'] } } }), {
    message: 'config: tls: unknown setting "host" (known here: mode, hosts)',
  });
  t.throws(() => loadConfig({ env: {}, overrides: { tls: { mode: 'file', certFile: 'a.pem', keyFile: 'a.key', keyfile: 'b.key' } } }), {
    message: 'config: tls: unknown setting "keyfile" (known here: mode, certFile, keyFile)',
  });
});

t.test("another mode's settings are inactive, not wrong: the mode may be switched by the environment", async (t) => {
  const file = await settingsFile(t, 'tls:\n  mode: file\n  certFile: /etc/cells/cert.pem\n  keyFile: /etc/cells/key.pem\n');
  t.equal(loadConfig({ env: { CELLS_AUTH_CONFIG: file } }).tls.mode, 'file');
  t.same(loadConfig({ env: { CELLS_AUTH_CONFIG: file, CELLS_AUTH_TLS_MODE: 'none' } }).tls, { mode: 'none' });
  const self = loadConfig({ env: { CELLS_AUTH_CONFIG: file, CELLS_AUTH_TLS_MODE: 'self' } }).tls;
  t.same(self, { mode: 'self', hosts: [] }, 'the file mode keys are dropped, not carried into the self mode');
});

t.test('`cells-auth start` with a misspelt file exits with one line naming the key', async (t) => {
  const file = await settingsFile(t, 'login:\n  lockoutTreshold: 3\n');
  const dataDir = await tempDir(t);
  const result = await runCli(['--config', file, 'start'], { env: { CELLS_AUTH_DATA_DIR: dataDir } });
  t.not(result.code, 0, 'it does not start');
  t.match(result.stderr, /config: login: unknown setting "lockoutTreshold" \(known here: lockoutThreshold, throttle\)/);
  t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  t.equal(result.stdout, '', 'nothing served, nothing printed');
});
