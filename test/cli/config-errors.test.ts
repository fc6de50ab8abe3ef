import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.ts';

// SPEC §10: a bad setting stops the start with one line naming it, and exit code 1.

t.test('a bad setting stops `start` with one line naming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cells-auth-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const typoFile = join(dir, 'typo.yaml');
  await writeFile(typoFile, 'tls:\n  mode: fiel\n');
  const wrongType = join(dir, 'wrong-type.yaml');
  await writeFile(wrongType, 'login:\n  lockoutThreshold: ten\n');
  const notYaml = join(dir, 'broken.yaml');
  await writeFile(notYaml, 'tls: [unclosed\n');

  const cases: Array<{ what: string; env?: Record<string, string>; args?: string[]; line: RegExp }> = [
    { what: 'file mode without a certificate', env: { CELLS_AUTH_TLS_MODE: 'file' }, line: /^cells-auth: config: tls\.certFile: / },
    { what: 'file mode without a key', env: { CELLS_AUTH_TLS_MODE: 'file', CELLS_AUTH_TLS_CERT_FILE: '/x.pem' }, line: /^cells-auth: config: tls\.keyFile: / },
    { what: 'Let’s Encrypt without accepting the agreement', env: { CELLS_AUTH_TLS_MODE: 'letsencrypt', CELLS_AUTH_ACME_EMAIL: 'ops@example.com' }, line: /^cells-auth: config: tls\.acceptTos: the ACME subscriber agreement must be accepted/ },
    { what: 'an unknown TLS mode', env: { CELLS_AUTH_TLS_MODE: 'fancy' }, line: /^cells-auth: config: tls\.mode: / },
    { what: 'a public URL that is no URL', env: { CELLS_AUTH_PUBLIC_URL: 'auth.example.com' }, line: /^cells-auth: config: publicUrl: expected an absolute http\(s\) URL$/ },
    { what: 'a public URL with another scheme', env: { CELLS_AUTH_PUBLIC_URL: 'ftp://auth.example.com' }, line: /^cells-auth: config: publicUrl: / },
    { what: 'a public URL with a path', env: { CELLS_AUTH_PUBLIC_URL: 'https://example.com/auth' }, line: /^cells-auth: config: publicUrl: must not have a path/ },
    { what: 'a public URL with a query', env: { CELLS_AUTH_PUBLIC_URL: 'https://example.com?x=1' }, line: /^cells-auth: config: publicUrl: must not carry a query or fragment$/ },
    { what: 'a bind address without a port', env: { CELLS_AUTH_BIND: '0.0.0.0' }, line: /^cells-auth: config: bind: expected host:port/ },
    { what: 'a boolean that is not one', env: { CELLS_AUTH_ACME_ACCEPT_TOS: 'maybe' }, line: /^cells-auth: config: CELLS_AUTH_ACME_ACCEPT_TOS: expected true or false, got "maybe"$/ },
    { what: 'a log level that does not exist', env: { CELLS_AUTH_LOG_LEVEL: 'loud' }, line: /^cells-auth: config: log\.level: / },
    { what: 'a typo in a config file value (--config)', args: ['--config', typoFile], line: /^cells-auth: config: tls\.mode: / },
    { what: 'a typo in a config file value (CELLS_AUTH_CONFIG)', env: { CELLS_AUTH_CONFIG: typoFile }, line: /^cells-auth: config: tls\.mode: / },
    { what: 'a word where a number belongs', args: ['--config', wrongType], line: /^cells-auth: config: login\.lockoutThreshold: / },
    { what: 'a config file that is not YAML', args: ['--config', notYaml], line: /^cells-auth: config: .*broken\.yaml is not valid YAML/ },
    { what: 'a config file that is not there', args: ['--config', join(dir, 'missing.yaml')], line: /^cells-auth: config: cannot read .*missing\.yaml: ENOENT$/ },
  ];

  for (const c of cases) {
    const dataDir = join(dir, `data-${cases.indexOf(c)}`);
    const res = await runCli([...(c.args ?? []), 'start'], { env: { CELLS_AUTH_DATA_DIR: dataDir, CELLS_AUTH_BIND: '127.0.0.1:0', ...c.env } });
    t.equal(res.code, 1, `${c.what}: exit code 1`);
    const lines = res.stderr.split('\n').filter(Boolean);
    t.equal(lines.length, 1, `${c.what}: one line on stderr`);
    t.match(lines[0], c.line, `${c.what}: names the setting`);
    t.equal(res.stdout, '', `${c.what}: nothing else printed`);
    t.notOk(existsSync(dataDir), `${c.what}: nothing was created`);
  }
});

t.test('the other commands refuse a bad setting the same way', async (t) => {
  for (const args of [['migrate'], ['admin', 'user', 'create', 'someone'], ['admin', 'user', 'unlock', 'someone']]) {
    const res = await runCli(args, { env: { CELLS_AUTH_PUBLIC_URL: 'https://example.com/auth' } });
    t.equal(res.code, 1, `${args.join(' ')}: exit 1`);
    t.equal(res.stderr, 'cells-auth: config: publicUrl: must not have a path: cells-auth is served from the root of its host\n');
  }
});
