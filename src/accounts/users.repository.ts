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

export interface UserListQuery {
  /** A case-insensitive substring of the login, e-mail or display name. */
  search?: string;
  /** Keyset paging: users whose login sorts after this one. */
  afterLogin?: string;
  limit: number;
}

export interface UserPatch {
  email?: string | null;
  display_name?: string | null;
  roles?: string[];
}

/** LIKE treats % and _ (and its escape, a backslash) as wildcards; a search for "a_b" means those characters. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

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

    /** Ordered by login (unique), so that paging is stable whatever is added or removed meanwhile. */
    list: (q: UserListQuery) => {
      let query = db.selectFrom('users').selectAll();
      if (q.search) {
        const pattern = `%${likeLiteral(q.search)}%`;
        query = query.where((eb) => eb.or([eb('login', 'ilike', pattern), eb('email', 'ilike', pattern), eb('display_name', 'ilike', pattern)]));
      }
      if (q.afterLogin !== undefined) query = query.where('login', '>', q.afterLogin);
      return query.orderBy('login').limit(q.limit).execute();
    },

    update: (id: string, patch: UserPatch) =>
      db
        .updateTable('users')
        .set({ ...patch, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),

    /** Their personal access tokens go with them (ON DELETE CASCADE, migration 0002). */
    delete: (id: string) => db.deleteFrom('users').where('id', '=', id).returning(['id']).executeTakeFirst(),

    setPasswordHash: (id: string, hash: string) =>
      db.updateTable('users').set({ password_hash: hash, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst(),
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
