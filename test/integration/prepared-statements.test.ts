import t from 'tap';
import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.ts';
import { freshDatabase } from '../helpers/database.ts';

// src/db/prepared.ts: statements are prepared per connection; a schema change made elsewhere
// (another instance migrating) must not break the statements already prepared.
t.test('a prepared select * survives a column added by someone else [postgres]', async (t) => {
  const fresh = await freshDatabase('postgres');
  const handle = await connectDatabase({ kind: 'postgres', url: fresh.url!, poolSize: 1 });
  const other = await connectDatabase({ kind: 'postgres', url: fresh.url!, poolSize: 1 });
  t.teardown(async () => {
    await handle.close();
    await other.close();
    await fresh.drop();
  });
  await sql`create table things (id int primary key)`.execute(handle.db);
  await sql`insert into things values (1)`.execute(handle.db);
  const read = () => sql<Record<string, unknown>>`select * from things where id = ${1}`.execute(handle.db);
  for (let i = 0; i < 6; i++) t.same((await read()).rows, [{ id: 1 }]); // prepared, and past the custom-plan phase

  await sql`alter table things add column label text default 'x'`.execute(other.db);
  t.same((await read()).rows, [{ id: 1, label: 'x' }], 'the new shape, not an error');
  t.same((await read()).rows, [{ id: 1, label: 'x' }], 'and again');
});
