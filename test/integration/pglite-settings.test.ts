import { sql } from 'kysely';
import t from 'tap';
import { buildTestApp } from '../helpers/harness.ts';

// The embedded database runs inside the service's process, so its memory is the instance's memory:
// it starts with small shared buffers (src/db/connect.ts), not Postgres's default 128 MB.

t.test('PGlite starts with 16 MB of shared buffers', async (t) => {
  const { ctx } = await buildTestApp(t, { kind: 'pglite', listen: false });
  const { rows } = await sql<{ shared_buffers: string }>`select current_setting('shared_buffers') as shared_buffers`.execute(ctx.db.db);
  t.equal(rows[0]?.shared_buffers, '16MB');
  t.equal(ctx.db.kind, 'pglite');
});
