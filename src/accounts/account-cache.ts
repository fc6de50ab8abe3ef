import { createTtlCache } from '../util/ttl-cache.ts';
import type { UsersAdminService } from './users.admin.service.ts';
import type { UserRow } from './users.repository.ts';
import type { UsersService } from './users.service.ts';

// The provider asks for the signed-in account twice after the login form: when the sign-in resumes
// (to issue the code) and at the token request (for the ID token's claims), each time by id, a
// moment after the form read the same row by login. A second-long cache answers both from that
// read: two statements fewer per sign-in.
//
// Freshness: every change made through this instance drops the entry at once; a change made by
// another instance (or the CLI) is seen within the lifetime. A lock or a deletion also removes the
// account's sessions, grants, codes and tokens in the same transaction, so an account a moment old
// cannot redeem what is gone; at worst a sign-in already past its password check finishes within
// that second, as one in flight at the moment of the lock would.

export const ACCOUNT_CACHE_MS = 1000;

export interface CachedAccounts {
  users: UsersService;
  usersAdmin: UsersAdminService;
  /** By id, for the provider: a fresh row at most ACCOUNT_CACHE_MS old. */
  findAccount(id: string): Promise<UserRow | undefined>;
}

/** `admin` builds the operators' service on the accounts service given (so that its unlocks and passwords go through here too). */
export function cacheAccounts(deps: {
  users: UsersService;
  admin: (accounts: UsersService) => UsersAdminService;
  ttlMs?: number;
  max?: number;
}): CachedAccounts {
  const { users } = deps;
  const cache = createTtlCache<string, UserRow | undefined>({ ttlMs: deps.ttlMs ?? ACCOUNT_CACHE_MS, max: deps.max ?? 1000 });
  const forget = <T extends { user: { id: string } }>(result: T): T => {
    cache.delete(result.user.id);
    return result;
  };
  const cachedUsers: UsersService = {
    ...users,
    async authenticate(login, password, from) {
      const result = await users.authenticate(login, password, from);
      // A good password: the row just read is the account the provider asks for next.
      if (result.ok) cache.set(result.user.id, result.user);
      // A failure may have locked it.
      else if (result.userId) cache.delete(result.userId);
      return result;
    },
    async unlock(login) {
      const user = await users.unlock(login);
      cache.delete(user.id);
      return user;
    },
    setPassword: async (login, password) => forget(await users.setPassword(login, password)),
  };
  const usersAdmin = deps.admin(cachedUsers);
  return {
    findAccount: (id) => cache.get(id, users.findById),
    users: cachedUsers,
    usersAdmin: {
      ...usersAdmin,
      update: async (login, input, actorId) => forget(await usersAdmin.update(login, input, actorId)),
      lock: async (login, actorId) => forget(await usersAdmin.lock(login, actorId)),
      remove: async (login, actorId) => forget(await usersAdmin.remove(login, actorId)),
    },
  };
}
