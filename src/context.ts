import type { Logger } from 'pino';
import { createAuditRepository } from './audit/audit.repository.ts';
import { createAuditService, type AuditService } from './audit/audit.service.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createArgon2Hasher, type PasswordHasher } from './accounts/password.ts';
import { createUsersRepository } from './accounts/users.repository.ts';
import { createUsersService, type UsersService } from './accounts/users.service.ts';
import { cacheAccounts } from './accounts/account-cache.ts';
import { createUsersAdminService, type UsersAdminService } from './accounts/users.admin.service.ts';
import { createBearerAuth, type BearerAuth } from './auth/bearer.ts';
import { createClientsRepository } from './clients/clients.repository.ts';
import { createClientsService, type ClientsService } from './clients/clients.service.ts';
import { loadStaticClients } from './clients/static-clients.ts';
import type { Config } from './config/schema.ts';
import { connectDatabase, targetFromConfig, type DatabaseTarget, type DbHandle } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createAdapterFactory } from './oidc/adapter.ts';
import { createKeysRepository } from './oidc/keys.repository.ts';
import { createKeysService, type KeysService } from './oidc/keys.service.ts';
import { createOidcModelsRepository } from './oidc/oidc-models.repository.ts';
import { createOidcRuntime, type OidcRuntime } from './oidc/oidc.runtime.ts';
import { createProvider } from './oidc/provider.ts';
import { createRequestStore } from './oidc/request-store.ts';
import { createSweeper } from './oidc/sweeper.ts';
import { patIntrospection } from './pat/pat-introspection.ts';
import { createPatRepository } from './pat/pat.repository.ts';
import { createPatService, type PatService } from './pat/pat.service.ts';
import { systemClock, type Clock } from './util/clock.ts';
import { createLogger } from './util/logger.ts';
import { createThrottle, type Throttle } from './util/throttle.ts';
import { createTtlCache, type TtlCache } from './util/ttl-cache.ts';

/** The one composition root: everything a route or command needs, built once and passed in. */
export interface AppContext {
  config: Config;
  log: Logger;
  clock: Clock;
  db: DbHandle;
  users: UsersService;
  /** The operators' management of accounts (list, update, lock, delete with revocation). */
  usersAdmin: UsersAdminService;
  clients: ClientsService;
  keys: KeysService;
  oidc: OidcRuntime;
  pats: PatService;
  /** Bearer / Basic credentials to a principal, for our own APIs. */
  bearer: BearerAuth;
  loginThrottle: Throttle;
  audit: AuditService;
  metrics: Metrics;
  /** Starts the background work (key watch, sweeping) of a serving instance. */
  startBackground(): void;
  close(): Promise<void>;
}

export interface ContextOptions {
  log?: Logger;
  clock?: Clock;
  /** Overrides the database the configuration names (tests use a throwaway one). */
  database?: DatabaseTarget;
  hasher?: PasswordHasher;
  /** Apply migrations before use (default true). */
  migrate?: boolean;
  /** Export process metrics (CPU, memory, event loop); off for short-lived commands. */
  processMetrics?: boolean;
}

/** Counts PAT verifications by outcome, wherever they happen (verify, Basic, introspection). */
function countVerifications(pats: PatService, metrics: Metrics): PatService {
  return {
    ...pats,
    async verify(token, address) {
      try {
        const verified = await pats.verify(token, address);
        metrics.patVerifications.inc({ result: verified ? 'valid' : 'invalid' });
        return verified;
      } catch (err) {
        metrics.patVerifications.inc({ result: 'error' });
        throw err;
      }
    },
  };
}

/** The clients service, with every change dropping that client from this instance's cache. */
function forgetOnChange(clients: ClientsService, cache: TtlCache<string, unknown>): ClientsService {
  return {
    ...clients,
    async register(input) {
      const registered = await clients.register(input);
      cache.delete(registered.client.clientId);
      return registered;
    },
    async remove(clientId) {
      await clients.remove(clientId);
      cache.delete(clientId);
    },
    async rotateSecret(clientId) {
      const rotated = await clients.rotateSecret(clientId);
      cache.delete(clientId);
      return rotated;
    },
  };
}

export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  const log = options.log ?? createLogger(config.log.level);
  const clock = options.clock ?? systemClock;
  // Configuration clients first: a bad clients file stops the start before anything is touched.
  const placeholders = { publicUrls: [config.publicUrl, ...config.extraPublicUrls] };
  const statics = loadStaticClients({ ...placeholders, clientsFile: config.clientsFile });
  for (const warning of statics.warnings) log.warn({ clientsFile: config.clientsFile }, warning);
  const db = await connectDatabase(options.database ?? targetFromConfig(config));
  try {
    if (options.migrate !== false) await migrateToLatest(db.db);

    // The provider's account lookups answered from a second-long cache (account-cache.ts).
    const { users, usersAdmin, findAccount } = cacheAccounts({
      users: createUsersService({
        repo: createUsersRepository(db.db),
        hasher: options.hasher ?? createArgon2Hasher(config.password),
        lockoutThreshold: config.login.lockoutThreshold,
        log,
      }),
      admin: (accounts) => createUsersAdminService({ db: db.db, accounts }),
    });
    const keys = createKeysService({
      repo: createKeysRepository(db.db),
      clock,
      longestTokenSeconds: Math.max(config.ttl.idToken, config.ttl.accessToken),
    });
    const modelsRepo = createOidcModelsRepository(db.db);
    // Operators' clients are asked for on every token and introspection request; a change to one
    // (or its removal) is seen at once by the instance that made it and by the others within a second.
    const clientCache = createTtlCache<string, Record<string, unknown> | undefined>({ ttlMs: 1000, max: 1000 });
    const clients = forgetOnChange(
      createClientsService({ repo: createClientsRepository(db.db), staticClients: statics.clients, placeholders, log }),
      clientCache,
    );
    const requestStore = createRequestStore({ repo: modelsRepo });
    const adapter = createAdapterFactory({
      repo: modelsRepo,
      store: requestStore,
      clock,
      findClient: (id) => clientCache.get(id, () => clients.providerMetadata(id)),
      refreshGraceSeconds: config.refreshGraceSeconds,
    });
    const staticClients = statics.clients.map((c) => c.metadata);

    const metrics = createMetrics({ poolStats: db.poolStats, processMetrics: options.processMetrics });
    const pats = countVerifications(createPatService({ repo: createPatRepository(db.db), clock, log }), metrics);
    const audit = createAuditService({ repo: createAuditRepository(db.db), clock, log });

    const oidc = createOidcRuntime({
      keys,
      log,
      build: (keySet) => {
        const provider = createProvider({ config, keys: keySet, adapter, staticClients, findUser: findAccount });
        provider.on('server_error', (_ctx, err) => log.error({ err }, 'oidc server error'));
        provider.on('grant.success', (gctx) => metrics.tokensIssued.inc({ grant: String(gctx.oidc.params?.grant_type ?? 'unknown') }));
        provider.use(patIntrospection({ pats, log }));
        provider.use(requestStore.middleware);
        return provider;
      },
    });
    const bearer = createBearerAuth({ pats, provider: () => oidc.provider(), findUser: users.findById });
    await keys.ensure();
    await oidc.reload();

    const sweeper = createSweeper({ repo: modelsRepo, clock, log });
    const loginThrottle = createThrottle({
      limit: config.login.throttle.perAddress,
      windowMs: config.login.throttle.windowSeconds * 1000,
      clock,
    });

    return {
      config,
      log,
      clock,
      db,
      users,
      usersAdmin,
      clients,
      keys,
      oidc,
      pats,
      bearer,
      loginThrottle,
      audit,
      metrics,
      startBackground() {
        oidc.watch(1000);
        sweeper.start(60_000);
      },
      async close() {
        oidc.stop();
        sweeper.stop();
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
