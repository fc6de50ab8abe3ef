import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../db/database.ts';
import type { UsersTable } from './users.table.ts';

export type UserRow = Selectable<UsersTable>;

export interface NewUserRow {
  id: string;
  login: string;
  email: string | null;
  display_name: string | null;
  password_hash: string;
  roles: string[];
}

export function createUsersRepository(db: Kysely<Database>) {
  return {
    findByLogin: (login: string) => db.selectFrom('users').selectAll().where('login', '=', login).executeTakeFirst(),

    findById: (id: string) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),

    insert: (row: NewUserRow) =>
      db
        .insertInto('users')
        .values({ ...row, roles: row.roles })
        .onConflict((oc) => oc.column('login').doNothing())
        .returningAll()
        .executeTakeFirst(),

    count: async () => Number((await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n),

    /** One round trip: count the failure and lock when the threshold is reached. */
    recordFailure: (id: string, threshold: number) =>
      db
        .updateTable('users')
        .set((eb) => ({
          failed_logins: eb('failed_logins', '+', 1),
          locked: sql<boolean>`locked or failed_logins + 1 >= ${threshold}`,
          updated_at: new Date(),
        }))
        .where('id', '=', id)
        .returning(['failed_logins', 'locked'])
        .executeTakeFirst(),

    resetFailures: (id: string) =>
      db.updateTable('users').set({ failed_logins: 0 }).where('id', '=', id).where('failed_logins', '>', 0).execute(),

    setLocked: (id: string, locked: boolean) =>
      db
        .updateTable('users')
        .set({ locked, failed_logins: 0, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),

    setPasswordHash: (id: string, hash: string) =>
      db.updateTable('users').set({ password_hash: hash, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst(),
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
