import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
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

/** Where and when failed sign-ins are counted: a client address, in a window that starts then. */
export interface FailureWindow {
  address: string;
  windowStart: Date;
}

/**
 * The sign-in's statements, unexecuted, so that a test can EXPLAIN exactly what runs (every one on
 * the sign-in path must be an index scan).
 */
export function createSignInQueries(db: Kysely<Database>) {
  const raw = <T>(q: RawBuilder<T>) => ({ compile: () => q.compile(db), execute: () => q.execute(db) });
  return {
    /**
     * The sign-in's one read: the account by its login, if there is one (none for null), and the
     * failures counted for the address in this window (null for none): the limit is checked before
     * any hash is paid.
     */
    findForSignIn: (login: string | null, at: FailureWindow) =>
      raw(sql<UserRow & { address_failures: number | null }>`
        select u.*, (select f.failures from login_failures f where f.address = ${at.address} and f.window_start = ${at.windowStart})
          as address_failures
        from (select 1) as one left join users u on u.login = ${login}`),

    /** One more failure for the address in this window. */
    addressFailed: (at: FailureWindow) =>
      raw(sql`
        insert into login_failures as f (address, window_start, failures) values (${at.address}, ${at.windowStart}, 1)
        on conflict (address, window_start) do update set failures = f.failures + 1`),

    /** Windows that ended before `before` (swept). */
    sweepFailures: (before: Date) => raw(sql`delete from login_failures where window_start < ${before}`),
  };
}

export function createUsersRepository(db: Kysely<Database>) {
  const signIn = createSignInQueries(db);
  return {
    /** The account by login (undefined when there is none) and the address's failures in the window. */
    findForSignIn: async (login: string | null, at: FailureWindow): Promise<{ user: UserRow | undefined; addressFailures: number }> => {
      const { rows } = await signIn.findForSignIn(login, at).execute();
      const { address_failures: failures, ...user } = rows[0]!;
      return { user: user.id === null ? undefined : user, addressFailures: failures ?? 0 };
    },

    addressFailed: async (at: FailureWindow): Promise<void> => void (await signIn.addressFailed(at).execute()),

    /** Deletes the failure counts of windows that ended before `before`; how many. */
    sweepFailures: async (before: Date): Promise<number> => Number((await signIn.sweepFailures(before).execute()).numAffectedRows ?? 0),

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
