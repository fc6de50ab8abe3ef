import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { connectDatabase } from '../../src/db/connect.ts';
import { buildTestApp } from '../helpers/harness.ts';

// The embedded database runs inside the service's process, so its memory is the instance's memory:
// it starts with small shared buffers (src/db/connect.ts), not Postgres's default 128 MB.

t.test('PGlite starts with 16 MB of shared buffers', async (t) => {
  const { ctx } = await buildTestApp(t, { kind: 'pglite', listen: false });
  const { rows } = await sql<{ shared_buffers: string }>`select current_setting('shared_buffers') as shared_buffers`.execute(ctx.db.db);
  t.equal(rows[0]?.shared_buffers, '16MB');
  t.equal(ctx.db.kind, 'pglite');
});

t.test('a database started from initial data holds that data, and a directory keeps it', async (t) => {
  // What the test databases start from (test/helpers/pglite-template.ts): a dump, loaded instead of initdb.
  const { PGlite } = await import('@electric-sql/pglite');
  const source = await PGlite.create();
  await source.exec(`create table marker (note text); insert into marker values ('from the dump')`);
  const initialData = await source.dumpDataDir('none');
  await source.close();

  const dir = await mkdtemp(join(tmpdir(), 'cells-auth-initial-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const target of [{ kind: 'pglite' as const, dir: null, initialData }, { kind: 'pglite' as const, dir: join(dir, 'pglite'), initialData }]) {
    const handle = await connectDatabase(target);
    const { rows } = await sql<{ note: string }>`select note from marker`.execute(handle.db);
    t.same(rows, [{ note: 'from the dump' }], `${target.dir ? 'in a directory' : 'in memory'}: the dump's rows`);
    await handle.close();
  }
  const reopened = await connectDatabase({ kind: 'pglite', dir: join(dir, 'pglite') });
  t.equal((await sql<{ n: number }>`select count(*)::int as n from marker`.execute(reopened.db)).rows[0]?.n, 1, 'reopened without it: the same data, not loaded twice');
  await reopened.close();
});
