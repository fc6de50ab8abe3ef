import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../util/clock.ts';
import type { OidcModelsRepository } from './oidc-models.repository.ts';

// Models that can be redeemed once. A second redemption is refused here, at the database, so that two
// parallel requests that both read the row before either wrote it cannot both win.
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * The oidc-provider adapter: every model maps onto the one `oidc_models` table (Logto's shape, in
 * Postgres). The provider constructs one instance per model name.
 */
export function createAdapterFactory(deps: {
  repo: OidcModelsRepository;
  clock: Clock;
  /** Operators' clients live in their own table; the provider asks for them as model `Client`. */
  findClient: (clientId: string) => Promise<AdapterPayload | undefined>;
}) {
  const { repo, clock, findClient } = deps;
  const now = () => new Date(clock.now());

  const hydrate = (row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined): AdapterPayload | undefined => {
    if (!row) return undefined;
    const payload = row.payload as AdapterPayload;
    return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
  };

  return class PostgresAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await repo.upsert({
        model: this.model,
        id,
        payload: payload as Record<string, unknown>,
        grantId: payload.grantId ?? null,
        uid: payload.uid ?? null,
        userCode: payload.userCode ?? null,
        expiresAt: expiresIn ? new Date(clock.now() + expiresIn * 1000) : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      // Postgres text cannot hold NUL, so no record has such an id; asking would be a server error.
      if (id.includes('\u0000')) return undefined;
      if (this.model === 'Client') return findClient(id);
      return hydrate(await repo.find(this.model, id, now()));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (uid.includes('\u0000')) return undefined;
      return hydrate(await repo.findBy(this.model, 'uid', uid, now()));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      if (userCode.includes('\u0000')) return undefined;
      return hydrate(await repo.findBy(this.model, 'user_code', userCode, now()));
    }

    async consume(id: string): Promise<void> {
      const won = await repo.consume(this.model, id, now());
      if (!won && CONSUMABLE.has(this.model)) {
        throw new errors.InvalidGrant('grant request is invalid: it was already used');
      }
    }

    async destroy(id: string): Promise<void> {
      await repo.destroy(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await repo.revokeByGrantId(grantId);
    }
  };
}
