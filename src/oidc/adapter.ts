import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { isDatabaseUnavailable } from '../errors/db-errors.ts';
import { isWellFormedPat } from '../pat/token-format.ts';
import type { Clock } from '../util/clock.ts';
import { createCoalescer, type Coalescer } from '../util/coalesce.ts';
import { modelKey, parseModelKey, type OidcModelsRepository, type StoredModel } from './oidc-models.repository.ts';
import type { RequestStore } from './request-store.ts';

// Models that can be redeemed once. A second redemption is refused here, at the database, so that two
// parallel requests that both read the row before either wrote it cannot both win.
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
// Models the provider looks up and then, in the same request, looks up their grant: read together.
const GRANT_HOLDERS = new Set(['AuthorizationCode', 'RefreshToken', 'AccessToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * The store cannot be reached. The provider answers its status (503) with an RFC 6749 error code
 * (`temporarily_unavailable`), never a 500 and never a wrong answer such as `active: false`.
 */
export class StoreUnavailableError extends errors.OIDCProviderError {
  constructor(cause: unknown) {
    super(503, 'temporarily_unavailable', { cause });
    this.expose = true;
    Object.assign(this, { error_description: 'the service is temporarily unavailable, try again shortly' });
  }
}

export async function guardStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw isDatabaseUnavailable(err) ? new StoreUnavailableError(err) : err;
  }
}

/**
 * The oidc-provider adapter: every model maps onto the one `oidc_models` table (Logto's shape, in
 * Postgres). The provider constructs one instance per model name.
 */
export function createAdapterFactory(deps: {
  repo: OidcModelsRepository;
  clock: Clock;
  /** Operators' clients live in their own table; the provider asks for them as model `Client`. */
  findClient: (clientId: string) => Promise<AdapterPayload | undefined>;
  /**
   * Seconds after a refresh token's rotation during which presenting it again is treated as the
   * client's own race (two tabs, a retry after a timeout), not as theft: that request fails, but the
   * token family survives. After the window, reuse revokes the family (OAuth 2.0 Security BCP §4.14).
   */
  refreshGraceSeconds: number;
  /** What one provider request holds: its pending writes, the grant read with a token (request-store.ts). */
  store: RequestStore;
}) {
  const { repo, clock, findClient, refreshGraceSeconds, store } = deps;
  // This request's pending writes go out before anything reads or conditionally writes.
  const settle = () => guardStore(() => store.settle());
  const now = () => new Date(clock.now());
  // The finds of one event-loop turn (many requests' tokens and grants under load) are one query
  // per model; codes and tokens, which are read with their grants, one query whatever their kind
  // (an introspection without a type hint asks for its token as an access and a refresh token at once).
  const finders = new Map<string, Coalescer<string, StoredModel>>();
  const finderOf = (model: string) => {
    let finder = finders.get(model);
    if (!finder) finders.set(model, (finder = createCoalescer({ fetch: (ids) => repo.findMany(model, ids, now()) })));
    return finder;
  };
  const holders = createCoalescer<string, StoredModel & { grant: StoredModel | undefined }>({
    fetch: (batch) => repo.findManyWithGrant(batch.map(parseModelKey), now()),
  });
  const load = async (model: string, id: string): Promise<StoredModel | undefined> => {
    if (model === 'Grant') {
      const kept = store.takeGrant(id);
      if (kept.found) return kept.row;
    }
    if (!GRANT_HOLDERS.has(model)) return finderOf(model).load(id);
    const row = await holders.load(modelKey(model, id));
    const grantId = row?.payload.grantId;
    if (typeof grantId === 'string') store.keepGrant(grantId, row!.grant);
    return row;
  };

  const hydrate = (model: string, row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined): AdapterPayload | undefined => {
    if (!row) return undefined;
    const payload = row.payload as AdapterPayload;
    if (!row.consumed_at) return payload;
    // Within the grace window the provider is shown an unused token, so it does not revoke the
    // family; the conditional UPDATE in consume() then refuses this second redemption.
    if (model === 'RefreshToken' && clock.now() - row.consumed_at.getTime() < refreshGraceSeconds * 1000) return payload;
    return { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
  };

  return class PostgresAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      // Postgres jsonb cannot hold a NUL character, and request parameters (a `state`, a hint) end up
      // in sessions and interactions: such a request is the client's error, not a server error.
      const payloadJson = JSON.stringify(payload);
      if (payloadJson.includes('\\u0000')) throw new errors.InvalidRequest('request parameters must not contain NUL characters');
      const row = {
        model: this.model,
        id,
        payloadJson,
        grantId: payload.grantId ?? null,
        uid: payload.uid ?? null,
        userCode: payload.userCode ?? null,
        expiresAt: expiresIn ? new Date(clock.now() + expiresIn * 1000) : null,
      };
      if (await guardStore(() => store.upsert(row))) return;
      await guardStore(() => repo.upsert(row));
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      // Postgres text cannot hold NUL, so no record has such an id; asking would be a server error.
      if (id.includes('\u0000')) return undefined;
      if (this.model === 'Client') return guardStore(() => findClient(id));
      // A PAT presented for introspection is looked up as each of the provider's token kinds
      // first; it is never one of them (53 characters with a checksum, theirs are 43), so no
      // query is needed to say so.
      if (isWellFormedPat(id)) return undefined;
      await settle();
      return hydrate(this.model, await guardStore(() => load(this.model, id)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (uid.includes('\u0000')) return undefined;
      await settle();
      return hydrate(this.model, await guardStore(() => repo.findBy(this.model, 'uid', uid, now())));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      if (userCode.includes('\u0000')) return undefined;
      await settle();
      return hydrate(this.model, await guardStore(() => repo.findBy(this.model, 'user_code', userCode, now())));
    }

    async consume(id: string): Promise<void> {
      // In a provider request: held, and sent with the request's writes (request-store.ts), which
      // refuses the request if another redemption won.
      if (CONSUMABLE.has(this.model) && (await guardStore(() => store.consume(this.model, id, now())))) return;
      await settle();
      const won = await guardStore(() => repo.consume(this.model, id, now()));
      if (!won && CONSUMABLE.has(this.model)) {
        throw new errors.InvalidGrant('grant request is invalid: it was already used');
      }
    }

    async destroy(id: string): Promise<void> {
      if (store.remove(this.model, id)) return;
      await guardStore(() => repo.destroy(this.model, id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await settle();
      store.forgetGrants();
      await guardStore(() => repo.revokeByGrantId(grantId));
    }
  };
}
