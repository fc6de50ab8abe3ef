import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Command } from 'commander';
import { askTlsChoice, type Prompts } from '../../src/cli/config-tls.choices.ts';
import { choiceFromFlags } from '../../src/cli/config-tls.ts';
import { settingsFile } from '../../src/cli/shared.ts';
import { LOCAL_CONFIG_FILE, loadConfig } from '../../src/config/load.ts';
import { writeTlsChoice } from '../../src/config/tls-choice.ts';
import { issueLeaf, loadOrCreateRootCa } from '../../src/tls/local-ca.ts';
import { tempDir } from '../helpers/tls.ts';

const COMMENTED = `# Our production settings.
publicUrl: https://cells.example.test # the address people type
bind: 0.0.0.0:8443

# TLS: see the README.
tls:
  mode: letsencrypt # chosen in 2025
  email: ops@example.test
  acceptTos: true
  renewDays: 20
log:
  level: warn
`;

t.test('the choice is written with the yaml Document API: comments, order and other settings stay', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'cells.yaml');
  await writeFile(file, COMMENTED);

  await writeTlsChoice(file, { mode: 'self', hosts: ['cells.local', '10.0.0.5'] });
  let text = await readFile(file, 'utf8');
  t.match(text, '# Our production settings.');
  t.match(text, 'publicUrl: https://cells.example.test # the address people type');
  t.match(text, '# TLS: see the README.');
  t.match(text, 'mode: self # chosen in 2025', 'the comment on the mode line stays');
  t.same(parse(text).tls, { mode: 'self', hosts: ['cells.local', '10.0.0.5'] }, "the other mode's keys are gone");
  t.same(parse(text).log, { level: 'warn' });
  t.ok(text.indexOf('bind:') < text.indexOf('tls:') && text.indexOf('tls:') < text.indexOf('log:'), 'key order kept');

  await writeTlsChoice(file, { mode: 'letsencrypt', email: 'a@example.test', acceptTos: true, directory: 'staging' });
  await writeFile(file, (await readFile(file, 'utf8')).replace('directory: staging', 'directory: staging\n  renewDays: 21'));
  await writeTlsChoice(file, { mode: 'letsencrypt', email: 'b@example.test', acceptTos: true, directory: 'production' });
  t.same(parse(await readFile(file, 'utf8')).tls, { mode: 'letsencrypt', email: 'b@example.test', acceptTos: true, directory: 'production', renewDays: 21 }, "a letsencrypt setting the menu does not ask for is kept");

  await writeTlsChoice(file, { mode: 'none' });
  text = await readFile(file, 'utf8');
  t.same(parse(text).tls, { mode: 'none' });
  t.equal(loadConfig({ env: {}, file }).tls.mode, 'none', 'the loader reads what was written');
});

t.test('a new file is created; publicUrl is set with the mode when given', async (t) => {
  const file = join(await tempDir(t), 'sub', 'new.yaml');
  const config = await writeTlsChoice(file, { mode: 'self', hosts: [] }, 'https://auth.example.test:8443');
  t.equal(config.publicUrl, 'https://auth.example.test:8443');
  const text = await readFile(file, 'utf8');
  t.match(text, /^# cells-auth settings/);
  t.same(parse(text), { publicUrl: 'https://auth.example.test:8443', tls: { mode: 'self', hosts: [] } });
});

t.test('a result that would not load is refused, the file left as it was', async (t) => {
  const file = join(await tempDir(t), 'cells.yaml');
  await writeFile(file, COMMENTED);
  await t.rejects(writeTlsChoice(file, { mode: 'self', hosts: [] }, 'ftp://nope'), { name: 'ConfigError', message: /^config: publicUrl: .*left as it was\)$/ });
  await t.rejects(writeTlsChoice(file, { mode: 'letsencrypt', email: 'not-an-email', acceptTos: true, directory: 'production' }), { message: /^config: tls.email: / });
  t.equal(await readFile(file, 'utf8'), COMMENTED);
  await writeFile(file, 'tls: [unclosed');
  await t.rejects(writeTlsChoice(file, { mode: 'none' }), { message: /is not valid YAML/ });
});

/** Prompts answered from a script, keyed by the start of the question; every question is recorded. */
function scripted(answers: [string, string | boolean][]): Prompts & { asked: string[]; validators: Map<string, (v: string) => true | string> } {
  const asked: string[] = [];
  const validators = new Map<string, (v: string) => true | string>();
  const next = (message: string) => {
    asked.push(message);
    const i = answers.findIndex(([q]) => message.startsWith(q));
    if (i < 0) throw new Error(`unexpected question: ${message}`);
    return answers.splice(i, 1)[0]![1];
  };
  return {
    asked,
    validators,
    select: async (o) => next(o.message) as never,
    input: async (o) => {
      if (o.validate) validators.set(o.message, o.validate);
      const answer = String(next(o.message));
      const verdict = o.validate?.(answer);
      if (verdict !== undefined && verdict !== true) throw new Error(`invalid answer "${answer}": ${verdict}`);
      return answer;
    },
    confirm: async (o) => next(o.message) as boolean,
  };
}

t.test('the menu asks only the chosen mode\'s questions, and the public URL when it is http', async (t) => {
  const current = loadConfig({ env: {} });
  const self = scripted([
    ['How should', 'self'],
    ['Extra host names', 'cells.local  10.0.0.5,::1'],
    ['TLS needs an https:// public URL', 'https://cells.example.test'],
  ]);
  t.same(await askTlsChoice(self, current), { choice: { mode: 'self', hosts: ['cells.local', '10.0.0.5', '::1'] }, publicUrl: 'https://cells.example.test' });
  const hostCheck = [...self.validators].find(([m]) => m.startsWith('Extra'))![1];
  t.match(hostCheck('bad_host!'), /"bad_host!" is neither a host name nor an IP address/);

  const le = scripted([
    ['How should', 'letsencrypt'],
    ['E-mail', 'ops@example.test'],
    ['Which certificate authority', 'staging'],
    ['Do you accept', true],
    ['TLS needs', 'https://cells.example.test'],
  ]);
  t.same((await askTlsChoice(le, current)).choice, { mode: 'letsencrypt', email: 'ops@example.test', acceptTos: true, directory: 'staging' });
  t.match(le.asked.find((q) => q.startsWith('Do you accept')), 'Subscriber Agreement (https://letsencrypt.org/repository/)');

  const declined = scripted([
    ['How should', 'letsencrypt'],
    ['E-mail', 'ops@example.test'],
    ['Which certificate authority', 'url'],
    ['ACME directory URL', 'https://acme.internal.example/directory'],
    ['Do you accept the terms of service of https://acme.internal.example/directory', false],
  ]);
  await t.rejects(askTlsChoice(declined, current), { name: 'CliError', message: 'the subscriber agreement was not accepted; nothing was written' });

  const none = scripted([['How should', 'none']]);
  t.same(await askTlsChoice(none, current), { choice: { mode: 'none' }, publicUrl: undefined });
  t.equal(none.asked.length, 1, 'no further question for plain HTTP');
});

t.test('the file questions check that the key belongs to the certificate', async (t) => {
  const dir = await tempDir(t);
  const ca = await loadOrCreateRootCa(join(dir, 'ca'), new Date());
  const a = await issueLeaf(ca, ['cells.example.test'], new Date(), 30);
  const b = await issueLeaf(ca, ['cells.example.test'], new Date(), 30);
  await writeFile(join(dir, 'cert.pem'), a.cert);
  await writeFile(join(dir, 'key.pem'), a.key);
  await writeFile(join(dir, 'other-key.pem'), b.key);
  const current = loadConfig({ env: {}, overrides: { publicUrl: 'https://cells.example.test' } });
  const p = scripted([
    ['How should', 'file'],
    ['Certificate file', join(dir, 'cert.pem')],
    ['Private key file', join(dir, 'key.pem')],
  ]);
  t.same(await askTlsChoice(p, current), { choice: { mode: 'file', certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, publicUrl: undefined });
  const keyCheck = [...p.validators].find(([m]) => m.startsWith('Private key'))![1];
  t.match(keyCheck(join(dir, 'other-key.pem')), /does not match the certificate/);
  t.match(keyCheck(join(dir, 'missing.pem')), /cannot read \(ENOENT\)/);
});

t.test('flags: each error is one line naming the flag', async (t) => {
  const err = (f: Parameters<typeof choiceFromFlags>[0]) => {
    try {
      choiceFromFlags(f);
      return 'no error';
    } catch (e) {
      return (e as Error).message;
    }
  };
  t.equal(err({ mode: 'file', cert: 'a.pem' }), '--mode file needs --cert FILE and --key FILE');
  t.equal(err({ mode: 'self', cert: 'a.pem' }), '--cert applies to --mode file, not --mode self');
  t.equal(err({ mode: 'self', host: ['ok.example', 'not ok'] }), '"not ok" is neither a host name nor an IP address');
  t.equal(err({ mode: 'letsencrypt', email: 'ops@example.test' }), "--mode letsencrypt needs --accept-tos: accepting the Let's Encrypt Subscriber Agreement (https://letsencrypt.org/repository/)");
  t.equal(err({ mode: 'letsencrypt', acceptTos: true }), '--mode letsencrypt needs --email ADDRESS (for the ACME account)');
  t.equal(err({ mode: 'letsencrypt', email: 'x', acceptTos: true }), '"x" is not an e-mail address');
  t.equal(err({ mode: 'letsencrypt', email: 'a@b.example', acceptTos: true, staging: true, directory: 'https://x.example/dir' }), 'give --staging or --directory URL, not both');
  t.equal(err({ mode: 'none', acceptTos: true }), '--accept-tos applies to --mode letsencrypt, not --mode none');
  t.same(choiceFromFlags({ mode: 'letsencrypt', email: 'a@b.example', acceptTos: true, staging: true }), { mode: 'letsencrypt', email: 'a@b.example', acceptTos: true, directory: 'staging' });
  t.same(choiceFromFlags({ mode: 'self' }), { mode: 'self', hosts: [] });
});

t.test('which file: --config, else CELLS_AUTH_CONFIG, else config/local.yaml', async (t) => {
  const cmd = (args: string[]) => {
    const program = new Command().option('-c, --config <file>').exitOverride();
    let seen: Command | undefined;
    program.command('x').action((_o, c: Command) => void (seen = c));
    program.parse(['node', 'cells-auth', ...args]);
    return seen!;
  };
  t.same(settingsFile(cmd(['x']), {}), { file: LOCAL_CONFIG_FILE, named: false });
  t.same(settingsFile(cmd(['--config', '/etc/cells.yaml', 'x']), {}), { file: '/etc/cells.yaml', named: true });
  t.same(settingsFile(cmd(['x']), { CELLS_AUTH_CONFIG: '/srv/cells.yaml' }), { file: '/srv/cells.yaml', named: true });
  t.same(settingsFile(cmd(['--config', '/etc/cells.yaml', 'x']), { CELLS_AUTH_CONFIG: '/srv/cells.yaml' }), { file: '/etc/cells.yaml', named: true }, '--config wins');
});
