import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.ts';
import { createCoreContext } from '../../src/core-context.ts';
import { isWellFormedPat } from '../../src/pat/token-format.ts';
import { createLogger } from '../../src/util/logger.ts';
import { freshDatabase } from '../helpers/database.ts';

const BIN = fileURLToPath(new URL('../../bin/cells-auth.js', import.meta.url));
const A = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

t.test('the token commands, as an operator runs them (Postgres)', async (t) => {
  const db = await freshDatabase('postgres');
  const dataDir = mkdtempSync(join(tmpdir(), 'cells-auth-cli-'));
  t.teardown(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  // A clean environment: only what the command needs.
  const env = { PATH: process.env.PATH ?? '', DATABASE_URL: db.url!, CELLS_AUTH_DATA_DIR: dataDir };
  const cli = (args: string[], stdin = ''): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  const fails = (t: Test, r: Run, pattern: RegExp, what: string) => {
    t.equal(r.code, 1, `${what}: exit 1`);
    t.equal(r.stdout, '', `${what}: nothing on stdout`);
    t.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: one line on stderr`);
    t.match(r.stderr, pattern, `${what}: ${r.stderr.trim()}`);
  };

  t.equal((await cli(['admin', 'user', 'create', 'alice', '--name', 'Alice Liddell', '--password-stdin'], 'correct horse battery\n')).code, 0);

  const fixed = await cli(['admin', 'user', 'token', '-u', 'alice', '-e', '24h']);
  t.equal(fixed.code, 0, fixed.stderr);
  const lines = fixed.stdout.split('\n');
  t.match(lines[0], /^✔ This token for Alice Liddell will expire on (Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d\d-[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d UTC\.$/, 'the expiry sentence, as Cells prints it');
  const token = lines[1]!.replace(/^✔ /, '');
  t.ok(isWellFormedPat(token), 'then the token');
  t.equal(lines[2], '');
  t.equal(lines[3], '⚠ Make sure to secure it as it grants access to the user resources!', 'then the warning');
  t.equal(fixed.stderr, '');

  const sliding = await cli(['admin', 'user', 'token', '-u', 'alice', '-a', '10m', '-e', '1h', '-l', 'sync job']);
  t.equal(sliding.code, 0);
  t.match(sliding.stdout, /will expire on .* UTC unless it is automatically refreshed \(each use extends it by 10m, up to .* UTC\)\./);

  const quiet = await cli(['admin', 'user', 'token', '-u', 'alice', '-a', '600', '-q', '-s', `node:${A}:r`, '-s', `node:${A.replace('0b5e', '1b5e')}:w,node:${A.replace('0b5e', '2b5e')}:rw`]);
  t.equal(quiet.code, 0);
  t.match(quiet.stdout, /^cap_[0-9A-Za-z]{49}\n$/, '-q: the token alone');
  const scopedToken = quiet.stdout.trim();

  // The minted tokens work against the same database.
  const ctx = await createCoreContext(loadConfig({ env: {} }), { database: db.target, log: createLogger('silent') });
  t.teardown(() => ctx.close());
  const verified = await ctx.pats.verify(token);
  t.equal(verified?.login, 'alice', 'the printed token is alice’s');
  t.same((await ctx.pats.verify(scopedToken))?.grants.map((g) => g.perm), ['r', 'w', 'rw'], 'repeated and comma-separated scopes');

  const list = await cli(['admin', 'user', 'tokens', '-u', 'alice']);
  t.equal(list.code, 0);
  t.equal(list.stdout.trim().split('\n').length, 4, 'a header and three tokens');
  t.match(list.stdout, /sync job/);
  t.match(list.stdout, new RegExp(`node:${A}:r`));
  for (const secret of [token, scopedToken]) t.notOk(list.stdout.includes(secret.slice(4, 47)), 'no secret in the list');
  const json = await cli(['admin', 'user', 'tokens', '-u', 'alice', '--json']);
  const listed = JSON.parse(json.stdout) as Array<{ id: string; label: string; token?: string; status: string }>;
  t.equal(listed.length, 3);
  t.ok(listed.every((p) => p.token === undefined && p.status === 'active'));
  t.equal((await cli(['admin', 'user', 'tokens', '-u', 'nobody'])).code, 1);

  const id = listed.find((p) => p.label === 'Command generated token' && p.id)!.id;
  const target = (await ctx.pats.list(verified!.userId)).find((p) => p.id === id)!;
  const revoke = await cli(['admin', 'token', 'revoke', id]);
  t.equal(revoke.code, 0);
  t.equal(revoke.stdout, `revoked token ${id}\n`);
  t.equal((await ctx.pats.list(verified!.userId)).find((p) => p.id === target.id)!.status, 'revoked', 'revoked in the database');
  const again = await cli(['admin', 'token', 'revoke', id]);
  t.equal(again.code, 0, 'revoking twice is not a failure');
  t.match(again.stdout, /already revoked/);

  fails(t, await cli(['admin', 'token', 'revoke', '7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d']), /^cells-auth: no token with id 7d1c2b9e/, 'unknown id');
  fails(t, await cli(['admin', 'token', 'revoke', 'nope']), /"nope" is not a token id/, 'malformed id');
  fails(t, await cli(['admin', 'user', 'token', '-u', 'nobody', '-e', '1h']), /^cells-auth: no user with login "nobody"$/m, 'unknown user');
  fails(t, await cli(['admin', 'user', 'token', '-u', 'alice', '-e', '28x']), /^cells-auth: -e\/--expire: "28x": unknown unit "x"/, 'bad duration');
  fails(t, await cli(['admin', 'user', 'token', '-u', 'alice', '-a', '0']), /^cells-auth: -a\/--auto: "0": must be longer than zero/, 'bad window');
  fails(t, await cli(['admin', 'user', 'token', '-u', 'alice', '-e', '1h', '-s', 'node:abc:r']), /^cells-auth: -s\/--scope: scope "node:abc:r" is malformed/, 'malformed scope');
  fails(t, await cli(['admin', 'user', 'token', '-u', 'alice', '-e', '1h', '-s', `node:${A}:x`]), new RegExp(`scope "node:${A}:x" is malformed: permission must be r, w or rw`), 'bad permission');
  fails(t, await cli(['admin', 'user', 'token', '-u', 'alice']), /^cells-auth: give a hard expiry \(-e\), a sliding window \(-a\), or both$/m, 'neither -e nor -a');
  t.equal((await ctx.pats.list(verified!.userId)).length, 3, 'no failed command minted anything');
});
