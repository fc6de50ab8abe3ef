import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors/app-error.ts';
import { createOidcModelsRepository, type OidcModelsRepository } from '../oidc/oidc-models.repository.ts';
import { createUsersRepository, type UserPatch, type UserRow, type UsersRepository } from './users.repository.ts';
import { EMAIL_PATTERN, LOGIN_PATTERN, toUser, type CreateUserInput, type User, type UsersService } from './users.service.ts';

// The operators' management of accounts (SPEC §1 `/a/admin/users`), beside users.service.ts (sign-in,
// creation, passwords, unlocking: shared with the login page, the provider and the CLI, and reused
// here). Its own file because what only operators do reaches into another area: locking and deleting
// revoke what the provider keeps for the account, in the same transaction.

/** A user as an operator sees it: the public view plus what matters for support. */
export interface AdminUser extends User {
  updatedAt: string;
  failedLogins: number;
}

export function toAdminUser(row: UserRow): AdminUser {
  return { ...toUser(row), updatedAt: row.updated_at.toISOString(), failedLogins: row.failed_logins };
}

export interface UserPage {
  users: AdminUser[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface UserUpdate {
  email?: string | null;
  displayName?: string | null;
  roles?: string[];
}

/** What changed, field by field, for the audit trail. */
export type UserChanges = Partial<Record<'email' | 'displayName' | 'roles', { from: unknown; to: unknown }>>;

// The cursor is opaque to callers (the ordering may change); it carries the last login of a page.
const encodeCursor = (login: string) => Buffer.from(login, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  const login = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!LOGIN_PATTERN.test(login) || encodeCursor(login) !== cursor) throw new ValidationError('querystring.cursor', 'not a cursor this API returned');
  return login;
}

const sameRoles = (a: string[], b: string[]) => a.length === b.length && a.every((r) => b.includes(r));

// The repositories over a connection or a transaction (kysely's Transaction is a Kysely).
const repos = (db: Kysely<Database>): { users: UsersRepository; models: OidcModelsRepository } => ({
  users: createUsersRepository(db),
  models: createOidcModelsRepository(db),
});

export function createUsersAdminService(deps: { db: Kysely<Database>; accounts: Pick<UsersService, 'create' | 'setPassword' | 'unlock'> }) {
  const { users, models } = repos(deps.db);

  async function byLogin(login: string): Promise<UserRow> {
    const row = await users.findByLogin(login);
    if (!row) throw new NotFoundError(`no user with login "${login}"`);
    return row;
  }

  /** An operator acting on their own account must not lock themselves (and so everyone) out. */
  /** actorId null: the command line on the server, which acts for no account. */
  function notSelf(row: UserRow, actorId: string | null, what: string): void {
    if (actorId !== null && row.id === actorId) throw new ConflictError(`you cannot ${what} your own account: ask another administrator`);
  }

  /** The operator's view of a user the accounts service just changed. */
  async function reread(id: string, login: string): Promise<AdminUser> {
    const row = await users.findById(id);
    if (!row) throw new NotFoundError(`no user with login "${login}"`);
    return toAdminUser(row);
  }

  // Creation, unlocking and passwords are the accounts service's (one set of rules for the API, the
  // CLI and the first start); these add the operator's view.

  async function create(input: CreateUserInput): Promise<{ user: AdminUser; password: string; generated: boolean }> {
    const created = await deps.accounts.create(input);
    return { user: await reread(created.user.id, input.login), password: created.password, generated: created.generated };
  }

  /**
   * Sets the given password, or a generated one returned once; a lock stays as it is. What was signed
   * in with the old password ends with it (sessions, grants, codes and OIDC tokens, as a lock ends
   * them): a password is reset because it leaked, and a refresh token taken with it would otherwise
   * outlive the reset by its 60 days. `keepSessions` keeps them (a routine rotation). PATs are
   * credentials of their own and stay.
   */
  async function setPassword(
    login: string,
    given: string | undefined,
    opts: { keepSessions?: boolean } = {},
  ): Promise<{ user: AdminUser; password: string; generated: boolean; providerRecords: number }> {
    const changed = await deps.accounts.setPassword(login, given);
    const providerRecords = opts.keepSessions ? 0 : await models.deleteByAccount(changed.user.id);
    return { user: await reread(changed.user.id, login), password: changed.password, generated: changed.generated, providerRecords };
  }

  /** Lets the owner back in and forgets their failed sign-ins. */
  async function unlock(login: string): Promise<AdminUser> {
    const unlocked = await deps.accounts.unlock(login);
    return reread(unlocked.id, login);
  }

  async function list(q: { search?: string; cursor?: string; limit: number }): Promise<UserPage> {
    const afterLogin = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    // One more than asked tells whether another page follows, without a count.
    const rows = await users.list({ search: q.search, afterLogin, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return { users: page.map(toAdminUser), nextCursor: rows.length > q.limit && last ? encodeCursor(last.login) : null };
  }

  async function get(login: string): Promise<AdminUser> {
    return toAdminUser(await byLogin(login));
  }

  async function update(login: string, input: UserUpdate, actorId: string): Promise<{ user: AdminUser; changes: UserChanges }> {
    const row = await byLogin(login);
    if (input.email != null && !EMAIL_PATTERN.test(input.email)) throw new ValidationError('email', 'not an e-mail address');
    const roles = input.roles && [...new Set(input.roles)];
    if (roles && row.roles.includes('admin') && !roles.includes('admin')) notSelf(row, actorId, 'remove the admin role from');
    const patch: UserPatch = {};
    const changes: UserChanges = {};
    if (input.email !== undefined && input.email !== row.email) {
      patch.email = input.email;
      changes.email = { from: row.email, to: input.email };
    }
    if (input.displayName !== undefined && input.displayName !== row.display_name) {
      patch.display_name = input.displayName;
      changes.displayName = { from: row.display_name, to: input.displayName };
    }
    if (roles && !sameRoles(roles, row.roles)) {
      patch.roles = roles;
      changes.roles = { from: row.roles, to: roles };
    }
    if (Object.keys(patch).length === 0) return { user: toAdminUser(row), changes };
    const updated = await users.update(row.id, patch);
    if (!updated) throw new NotFoundError(`no user with login "${login}"`);
    return { user: toAdminUser(updated), changes };
  }

  /**
   * Locking refuses the account's sign-ins, access tokens and PATs, and ends what the provider holds
   * for it (sessions, grants, refresh tokens) in the same transaction: unlocking after a compromise
   * must not bring an attacker's session or refresh token back to life. PATs stay, refused while
   * locked: they are listed and revoked one by one.
   */
  async function lock(login: string, actorId: string | null): Promise<{ user: AdminUser; providerRecords: number }> {
    const row = await byLogin(login);
    notSelf(row, actorId, 'lock');
    const result = await deps.db.transaction().execute(async (trx) => {
      const inTrx = repos(trx);
      const updated = await inTrx.users.setLocked(row.id, true);
      if (!updated) return undefined;
      return { updated, providerRecords: await inTrx.models.deleteByAccount(row.id) };
    });
    if (!result) throw new NotFoundError(`no user with login "${login}"`);
    return { user: toAdminUser(result.updated), providerRecords: result.providerRecords };
  }

  /**
   * Deletes the account and, in the same transaction, every session, grant, code and token the
   * provider holds for it; the database cascades the personal access tokens. Returns how many
   * provider records went.
   */
  async function remove(login: string, actorId: string | null): Promise<{ user: AdminUser; providerRecords: number }> {
    const row = await byLogin(login);
    notSelf(row, actorId, 'delete');
    const removed = await deps.db.transaction().execute(async (trx) => {
      const inTrx = repos(trx);
      if (!(await inTrx.users.delete(row.id))) return undefined;
      return inTrx.models.deleteByAccount(row.id);
    });
    if (removed === undefined) throw new NotFoundError(`no user with login "${login}"`);
    // A request that was already past its account check (a refresh in flight) may have written a
    // token after the delete; sweep once more. Such a token is dead anyway (its account is gone), this
    // only keeps the table clean.
    const late = await models.deleteByAccount(row.id);
    return { user: toAdminUser(row), providerRecords: removed + late };
  }

  return { create, list, get, update, lock, unlock, setPassword, remove };
}

export type UsersAdminService = ReturnType<typeof createUsersAdminService>;
