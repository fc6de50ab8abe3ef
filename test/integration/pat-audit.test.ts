import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { auditRows, call, rootAdmin } from '../helpers/admin.ts';
import { dbKinds, freshDatabase } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, bearer, makeUser } from '../helpers/pat.ts';

const BIN = fileURLToPath(new URL('../../bin/cells-auth.js', import.meta.url));

for (const kind of dbKinds()) {
  t.test(`PATs minted and revoked through the APIs are audited, never their secret [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const root = await rootAdmin(ctx);
    const alice = await makeUser(ctx, 'alice');
    const aliceAt = bearer(await accessTokenFor(url, 'alice'));
    const before = (await auditRows(ctx)).length;

    const byAdmin = await call(url, 'POST', '/a/admin/users/alice/tokens', root.auth, { label: 'backup', expire: '24h', auto: '10m' });
    t.equal(byAdmin.status, 201);
    const bySelf = await call(url, 'POST', '/a/auth/tokens', aliceAt, { label: 'laptop', expire: '1h' });
    t.equal(bySelf.status, 201);
    t.equal((await call(url, 'DELETE', `/a/admin/tokens/${bySelf.body.id}`, root.auth)).status, 204);
    t.equal((await call(url, 'DELETE', `/a/admin/tokens/${bySelf.body.id}`, root.auth)).status, 204, 'revoking twice');
    t.equal((await call(url, 'DELETE', `/a/auth/tokens/${byAdmin.body.id}`, aliceAt)).status, 204);
    t.equal((await call(url, 'POST', '/a/admin/users/alice/tokens', root.auth, { expire: 'soon' })).status, 400);
    t.equal((await call(url, 'DELETE', '/a/auth/tokens/7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d', aliceAt)).status, 404);

    const rows = (await auditRows(ctx)).slice(before);
    t.same(
      rows.map((r) => `${r.action}:${r.actor_login}:${r.target_id}`),
      [
        `token.minted:root:${byAdmin.body.id}`,
        `token.minted:alice:${bySelf.body.id}`,
        `token.revoked:root:${bySelf.body.id}`,
        `token.revoked:alice:${byAdmin.body.id}`,
      ],
      'one event per mint and per revocation; none for a repeat, a refusal or an unknown id',
    );
    t.match(rows[0], {
      actor_id: root.id,
      address: '127.0.0.1',
      target_type: 'token',
      details: { owner: { id: alice.id, login: 'alice' }, label: 'backup', scopes: [], autoRefreshSeconds: 600, via: 'admin', credential: { type: 'pat' } },
    });
    t.match(rows[1], { actor_id: alice.id, details: { owner: { id: alice.id }, label: 'laptop', via: 'self', credential: { type: 'access_token' } } });
    t.match(rows[2], { details: { via: 'admin' } });
    t.match(rows[3], { details: { via: 'self' } });
    const stored = JSON.stringify(await auditRows(ctx));
    for (const token of [byAdmin.body.token, bySelf.body.token]) {
      t.notOk(stored.includes(token.slice(4, 40)), 'no part of a minted secret is in the trail');
    }
  });
}

t.test('the command line audits what it changes (Postgres)', async (t) => {
  const db = await freshDatabase('postgres');
  const dataDir = mkdtempSync(join(tmpdir(), 'cells-auth-cli-audit-'));
  const reader = new Kysely<never>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url }) }) });
  t.teardown(async () => {
    await reader.destroy();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const env = { PATH: process.env.PATH ?? '', DATABASE_URL: db.url!, CELLS_AUTH_DATA_DIR: dataDir };
  const cli = (args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> =>
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

  const created = await cli(['admin', 'user', 'create', 'alice', '--password-stdin'], 'correct horse battery\n');
  t.equal(created.code, 0, created.stderr);
  const minted = await cli(['admin', 'user', 'token', '-u', 'alice', '-e', '1h', '-q']);
  t.equal(minted.code, 0, minted.stderr);
  const token = minted.stdout.trim();
  const listed = JSON.parse((await cli(['admin', 'user', 'tokens', '-u', 'alice', '--json'])).stdout) as Array<{ id: string }>;
  const id = listed[0]!.id;
  t.equal((await cli(['admin', 'token', 'revoke', id])).code, 0);
  t.equal((await cli(['admin', 'token', 'revoke', id])).code, 0, 'revoking twice');
  t.equal((await cli(['keys', 'rotate'])).code, 0);

  const { rows } = await sql<Record<string, unknown>>`select * from audit_events order by id`.execute(reader);
  t.same(
    rows.map((r) => r.action),
    ['user.created', 'token.minted', 'token.revoked', 'keys.rotated'],
    'each change once, written before the command exits',
  );
  for (const r of rows) {
    t.match(r, { actor_id: null, actor_login: null, address: null, details: { via: 'cli' } }, `${r.action}: from the command line, no account behind it`);
    t.type((r.details as { osUser: unknown }).osUser, 'string', 'the system user who ran it');
  }
  t.match(rows[1], { target_type: 'token', target_id: id, details: { owner: { login: 'alice' } } });
  t.match(rows[2], { target_type: 'token', target_id: id });
  t.match(rows[3], { target_type: 'signing_key' });
  const stored = JSON.stringify(rows);
  t.notOk(stored.includes(token.slice(4, 40)), 'not the minted secret');
  t.notOk(stored.includes('correct horse battery'), 'not the password');
});
