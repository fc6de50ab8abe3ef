import type { Logger } from 'pino';
import { cacheAccounts } from './accounts/account-cache.ts';
import { createArgon2Hasher, type PasswordHasher } from './accounts/password.ts';
import { createUsersRepository, type UserRow } from './accounts/users.repository.ts';
import { createUsersAdminService, type UsersAdminService } from './accounts/users.admin.service.ts';
import { createUsersService, type UsersService } from './accounts/users.service.ts';
import { createAuditRepository } from './audit/audit.repository.ts';
import { createAuditService, type AuditService } from './audit/audit.service.ts';
import { createClientsRepository } from './clients/clients.repository.ts';
import { createClientsService, type ClientsService } from './clients/clients.service.ts';
import { loadStaticClients, type StaticClient } from './clients/static-clients.ts';
import type { Config } from './config/schema.ts';
import { connectDatabase, targetFromConfig, type DatabaseTarget, type DbHandle } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createKeysRepository } from './oidc/keys.repository.ts';
import { createKeysService, type KeysService } from './oidc/keys.service.ts';
import { createPatRepository } from './pat/pat.repository.ts';
import { createPatService, type PatService } from './pat/pat.service.ts';
import { systemClock, type Clock } from './util/clock.ts';
import { createLogger } from './util/logger.ts';

// The first half of the composition root (context.ts is the rest): the database and the services
// over it, which is all an operator command needs. It loads neither the provider nor the web app,
// nor the metrics: a command that builds only this starts in about half the time, and commands
// are run one after another, by people and by scripts.

/** The database, migrated, with its keys present, and the services over it. */
export interface CoreContext {
  config: Config;
  log: Logger;
  clock: Clock;
  db: DbHandle;
  users: UsersService;
  /** The operators' management of accounts (list, update, lock, delete with revocation). */
  usersAdmin: UsersAdminService;
  /** Accounts by id for the provider, from a second-long cache (account-cache.ts). */
  findAccount(id: string): Promise<UserRow | undefined>;
  clients: ClientsService;
  /** The clients of the configuration (defaults and clients file), as loaded at start. */
  staticClients: StaticClient[];
  keys: KeysService;
  pats: PatService;
  audit: AuditService;
  /** Writes what is queued (PAT uses, audit events), then closes the database. */
  close(): Promise<void>;
}

export interface CoreOptions {
  log?: Logger;
  clock?: Clock;
  /** Overrides the database the configuration names (tests use a throwaway one). */
  database?: DatabaseTarget;
  hasher?: PasswordHasher;
  /** Apply migrations before use (default true). */
  migrate?: boolean;
}

export async function createCoreContext(config: Config, options: CoreOptions = {}): Promise<CoreContext> {
  const log = options.log ?? createLogger(config.log.level);
  const clock = options.clock ?? systemClock;
  // Configuration clients first: a bad clients file stops the start before anything is touched.
  const placeholders = { publicUrls: [config.publicUrl, ...config.extraPublicUrls] };
  const statics = loadStaticClients({ ...placeholders, clientsFile: config.clientsFile });
  for (const warning of statics.warnings) log.warn({ clientsFile: config.clientsFile }, warning);
  const db = await connectDatabase(options.database ?? targetFromConfig(config));
  try {
    if (options.migrate !== false) await migrateToLatest(db.db);

    const pats = createPatService({ repo: createPatRepository(db.db), clock, log, cacheSize: config.pat.cacheSize });
    // The provider's account lookups answered from a second-long cache (account-cache.ts).
    const { users, usersAdmin: accountsAdmin, findAccount } = cacheAccounts({
      users: createUsersService({
        repo: createUsersRepository(db.db),
        hasher: options.hasher ?? createArgon2Hasher(config.password),
        lockoutThreshold: config.login.lockoutThreshold,
        addressLimit: { perAddress: config.login.throttle.perAddress, windowMs: config.login.throttle.windowSeconds * 1000, clock },
        log,
      }),
      admin: (accounts) => createUsersAdminService({ db: db.db, accounts }),
    });
    const keys = createKeysService({
      repo: createKeysRepository(db.db),
      clock,
      longestTokenSeconds: Math.max(config.ttl.idToken, config.ttl.accessToken),
    });
    const clients = createClientsService({ repo: createClientsRepository(db.db), staticClients: statics.clients, placeholders, log });
    // An owner locked, deleted or given other roles: answered once every instance's kept PATs
    // reflect it (pat-cache.ts), as a revocation is.
    const settled = async <T>(result: T): Promise<T> => {
      await pats.settle();
      return result;
    };
    const usersAdmin: UsersAdminService = {
      ...accountsAdmin,
      lock: async (login, actorId) => settled(await accountsAdmin.lock(login, actorId)),
      remove: async (login, actorId) => settled(await accountsAdmin.remove(login, actorId)),
      update: async (login, input, actorId) => {
        const result = await accountsAdmin.update(login, input, actorId);
        return result.changes.roles ? settled(result) : result;
      },
    };
    const audit = createAuditService({ repo: createAuditRepository(db.db), clock, log });
    await keys.ensure();

    return {
      config,
      log,
      clock,
      db,
      users,
      usersAdmin,
      findAccount,
      clients,
      staticClients: statics.clients,
      keys,
      pats,
      audit,
      async close() {
        await pats.close().catch((err) => log.warn({ err }, 'personal access token uses not written at shutdown'));
        // Queued audit events (sign-ins) are written before the pool goes.
        await audit.flush();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
