import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ConflictError, NotFoundError, ValidationError } from '../errors/app-error.ts';
import type { Clock } from '../util/clock.ts';
import type { PasswordHasher } from './password.ts';
import type { UserRow, UsersRepository } from './users.repository.ts';

export const LOGIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
export const LOGIN_RULE = 'letters, digits and . _ @ + - only, starting with a letter or digit, at most 128';
export const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+$/;

export interface User {
  id: string;
  login: string;
  email: string | null;
  displayName: string | null;
  roles: string[];
  authSource: string;
  locked: boolean;
  createdAt: string;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    login: row.login,
    email: row.email,
    displayName: row.display_name,
    roles: row.roles,
    authSource: row.auth_source,
    locked: row.locked,
    createdAt: row.created_at.toISOString(),
  };
}

export interface CreateUserInput {
  login: string;
  email?: string | null;
  displayName?: string | null;
  admin?: boolean;
  /** Omitted: one is generated and returned once. */
  password?: string;
}

/** `retryAfterSeconds`: refused before any check, the address having failed too often (nothing was counted). */
export type AuthResult = { ok: true; user: UserRow } | { ok: false; lockedNow: boolean; userId?: string; retryAfterSeconds?: number };

/** Failed sign-ins allowed per client address and window, across instances (login.throttle). */
export interface AddressLimit {
  perAddress: number;
  windowMs: number;
  clock: Clock;
}

/** A password a person can copy: 24 characters from a 62-letter alphabet (~143 bits). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(48);
  let out = '';
  for (const b of bytes) {
    if (b >= 248) continue; // 248 = 4 × 62: keeps the choice uniform
    out += alphabet[b % 62];
    if (out.length === 24) break;
  }
  return out.length === 24 ? out : generatePassword();
}

export function validatePassword(password: string): void {
  if (password.length < 8) throw new ValidationError('password', 'must be at least 8 characters');
  if (password.length > 1024) throw new ValidationError('password', 'must be at most 1024 characters');
}

export function createUsersService(deps: { repo: UsersRepository; hasher: PasswordHasher; lockoutThreshold: number; addressLimit: AddressLimit; log: Logger }) {
  const { repo, hasher, lockoutThreshold, addressLimit, log } = deps;
  // Verified against when the login does not exist, so that both paths cost one hash.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hasher.hash(randomBytes(16).toString('hex')));

  async function create(input: CreateUserInput): Promise<{ user: User; password: string; generated: boolean }> {
    if (!LOGIN_PATTERN.test(input.login)) {
      throw new ValidationError('login', LOGIN_RULE);
    }
    if (input.email != null && !EMAIL_PATTERN.test(input.email)) throw new ValidationError('email', 'not an e-mail address');
    const generated = input.password === undefined;
    const password = input.password ?? generatePassword();
    validatePassword(password);
    const row = await repo.insert({
      id: randomUUID(),
      login: input.login,
      email: input.email ?? null,
      display_name: input.displayName ?? null,
      password_hash: await hasher.hash(password),
      roles: input.admin ? ['admin'] : [],
    });
    if (!row) throw new ConflictError(`a user with login "${input.login}" already exists`);
    return { user: toUser(row), password, generated };
  }

  /** The start of the window `now` falls in, aligned on the epoch (every instance counts into the same row). */
  const windowStartOf = (now: number) => Math.floor(now / addressLimit.windowMs) * addressLimit.windowMs;

  /** Deletes the failure counts of windows that have ended; how many. */
  const sweepFailures = () => repo.sweepFailures(new Date(windowStartOf(addressLimit.clock.now())));

  /**
   * Checks a login and password. Every path costs one password hash and the caller gets no hint of
   * which check failed; a locked account fails like a wrong password. `from`: the client's address,
   * whose failures are counted in the database for every instance and refused at the limit, before
   * any hash. Read, then counted after the hash: attempts made at the same moment all pass the read,
   * and are bounded by each instance's own count of every attempt (util/throttle.ts), taken first.
   */
  async function authenticate(login: string, password: string, from?: { address: string }): Promise<AuthResult> {
    const known = LOGIN_PATTERN.test(login) ? login : null;
    let row: UserRow | undefined;
    let failed = async () => {};
    if (from) {
      const now = addressLimit.clock.now();
      const windowStart = windowStartOf(now);
      const at = { address: from.address, windowStart: new Date(windowStart) };
      const found = await repo.findForSignIn(known, at);
      if (found.addressFailures >= addressLimit.perAddress) {
        return { ok: false, lockedNow: false, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + addressLimit.windowMs - now) / 1000)) };
      }
      row = found.user;
      failed = () => repo.addressFailed(at);
    } else if (known !== null) {
      row = await repo.findByLogin(known);
    }
    if (!row) {
      await hasher.verify(await dummy(), password);
      await failed();
      return { ok: false, lockedNow: false };
    }
    const good = await hasher.verify(row.password_hash, password);
    if (row.locked) {
      await failed();
      return { ok: false, lockedNow: false, userId: row.id };
    }
    if (!good) {
      const [after] = await Promise.all([repo.recordFailure(row.id, lockoutThreshold), failed()]);
      const lockedNow = Boolean(after?.locked);
      if (lockedNow) log.warn({ userId: row.id, failures: after?.failed_logins }, 'account locked after repeated failed logins');
      return { ok: false, lockedNow, userId: row.id };
    }
    if (row.failed_logins > 0) await repo.resetFailures(row.id);
    return { ok: true, user: row };
  }

  /** SPEC §3: on a first start with no users, an admin with a one-time password. */
  async function ensureFirstAdmin(configuredPassword: string | undefined): Promise<{ login: string; password: string; generated: boolean } | null> {
    if ((await repo.count()) > 0) return null;
    const created = await create({ login: 'admin', admin: true, displayName: 'Administrator', password: configuredPassword }).catch((err) => {
      // Another instance created it first.
      if (err instanceof ConflictError) return null;
      throw err;
    });
    return created && { login: created.user.login, password: created.password, generated: created.generated };
  }

  /** Operator recovery: clears the lock and the failure count (SPEC §3). */
  async function unlock(login: string): Promise<User> {
    const row = await repo.findByLogin(login);
    if (!row) throw new NotFoundError(`no user with login "${login}"`);
    const updated = await repo.setLocked(row.id, false);
    if (!updated) throw new NotFoundError(`no user with login "${login}"`);
    return toUser(updated);
  }

  /**
   * Sets a new password; omitted, one is generated and returned once. The lock is left as it is: an
   * operator who suspects an attack may want to change the password before unlocking.
   */
  async function setPassword(login: string, password?: string): Promise<{ user: User; password: string; generated: boolean }> {
    const generated = password === undefined;
    const next = password ?? generatePassword();
    validatePassword(next);
    const row = await repo.findByLogin(login);
    if (!row) throw new NotFoundError(`no user with login "${login}"`);
    const updated = await repo.setPasswordHash(row.id, await hasher.hash(next));
    if (!updated) throw new NotFoundError(`no user with login "${login}"`);
    return { user: toUser(updated), password: next, generated };
  }

  return {
    create,
    authenticate,
    sweepFailures,
    ensureFirstAdmin,
    unlock,
    setPassword,
    findById: repo.findById,
    findByLogin: repo.findByLogin,
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
