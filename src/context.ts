import { createBearerAuth, type BearerAuth } from './auth/bearer.ts';
import type { ClientMetadataSource } from './clients/client-metadata.ts';
import type { ClientsService } from './clients/clients.service.ts';
import type { Config } from './config/schema.ts';
import { createCoreContext, type CoreContext, type CoreOptions } from './core-context.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createAdapterFactory } from './oidc/adapter.ts';
import { createOidcModelsRepository } from './oidc/oidc-models.repository.ts';
import { createOidcRuntime, type OidcRuntime } from './oidc/oidc.runtime.ts';
import { createProvider } from './oidc/provider.ts';
import { createRequestStore } from './oidc/request-store.ts';
import { createSweeper } from './oidc/sweeper.ts';
import { patIntrospection } from './pat/pat-introspection.ts';
import type { PatService } from './pat/pat.service.ts';
import { createThrottle, type Throttle } from './util/throttle.ts';
import { createTtlCache, type TtlCache } from './util/ttl-cache.ts';

/**
 * The one composition root of a serving instance: the core (core-context.ts: the database and the
 * services over it, all an operator command needs) and the provider, bearer authentication, login
 * throttle, metrics and background work on top, built once and passed in.
 */
export interface AppContext extends Omit<CoreContext, 'findAccount' | 'staticClients'> {
  oidc: OidcRuntime;
  /** Bearer / Basic credentials to a principal, for our own APIs. */
  bearer: BearerAuth;
  loginThrottle: Throttle;
  metrics: Metrics;
  /** What the provider builds each client from (introspection keeps a client's authentication by it). */
  clientMetadata: ClientMetadataSource;
  /** Starts the background work (key watch, sweeping) of a serving instance. */
  startBackground(): void;
}

export interface ContextOptions extends CoreOptions {
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
    // Only an answer is counted: undefined means `verify` decides, and counts, next.
    verifyKept(token, address, owner) {
      const verified = pats.verifyKept(token, address, owner);
      if (verified) metrics.patVerifications.inc({ result: 'valid' });
      return verified;
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
  const core = await createCoreContext(config, options);
  const { log, clock, db, keys, findAccount } = core;
  try {
    const modelsRepo = createOidcModelsRepository(db.db);
    // Operators' clients are asked for on every token and introspection request; a change to one
    // (or its removal) is seen at once by the instance that made it and by the others within a second.
    const clientCache = createTtlCache<string, Record<string, unknown> | undefined>({ ttlMs: 1000, max: 1000 });
    const clients = forgetOnChange(core.clients, clientCache);
    const storedClient = (id: string) => clientCache.get(id, () => clients.providerMetadata(id));
    const requestStore = createRequestStore({ repo: modelsRepo });
    const adapter = createAdapterFactory({
      repo: modelsRepo,
      store: requestStore,
      clock,
      findClient: storedClient,
      refreshGraceSeconds: config.refreshGraceSeconds,
    });
    const staticClients = core.staticClients.map((c) => c.metadata);
    // The provider takes a static client before asking the store, and keeps it for its lifetime.
    const staticById = new Map<string, Record<string, unknown>>(staticClients.map((m) => [m.client_id, m as unknown as Record<string, unknown>]));

    const metrics = createMetrics({ poolStats: db.poolStats, patCache: core.pats.cacheStats, processMetrics: options.processMetrics });
    // The server answers PATs it verified lately from memory, told of changes by the feed (pat-cache.ts).
    core.pats.watch();
    const pats = countVerifications(core.pats, metrics);

    const oidc = createOidcRuntime({
      keys,
      log,
      store: requestStore,
      build: (keySet) => {
        const provider = createProvider({ config, keys: keySet, adapter, staticClients, findUser: findAccount });
        provider.on('server_error', (_ctx, err) => log.error({ err }, 'oidc server error'));
        // Counted when the response goes out as a success: a redemption can still lose at the
        // request's last write (request-store.ts), after the provider has announced the grant.
        provider.on('grant.success', (gctx) => {
          const grant = String(gctx.oidc.params?.grant_type ?? 'unknown');
          gctx.res.once('finish', () => gctx.res.statusCode === 200 && metrics.tokensIssued.inc({ grant }));
        });
        provider.use(patIntrospection({ pats, log }));
        provider.use(requestStore.middleware);
        return provider;
      },
    });
    const bearer = createBearerAuth({ pats, provider: () => oidc.provider(), store: requestStore, findUser: core.users.findById });
    await oidc.reload();

    const sweeper = createSweeper({ repo: modelsRepo, clock, log, also: [core.users.sweepFailures] });
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
      users: core.users,
      usersAdmin: core.usersAdmin,
      clients,
      keys,
      oidc,
      pats,
      bearer,
      loginThrottle,
      audit: core.audit,
      metrics,
      clientMetadata: {
        get: async (id) => staticById.get(id) ?? storedClient(id),
        peek: (id) => {
          const kept = staticById.get(id);
          return kept ? { value: kept } : clientCache.peek(id);
        },
      },
      startBackground() {
        oidc.watch(1000);
        sweeper.start(60_000);
      },
      async close() {
        oidc.stop();
        sweeper.stop();
        await core.close();
      },
    };
  } catch (err) {
    await core.close();
    throw err;
  }
}
