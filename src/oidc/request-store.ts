import { AsyncLocalStorage } from 'node:async_hooks';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { guardStore } from './adapter.ts';
import { modelKey, type ModelKey, type OidcModelsRepository, type StoredModel, type UpsertModel } from './oidc-models.repository.ts';

// What one provider request holds between its statements; nothing outlives the request.
//
// 1. Its writes. A request often writes several rows one after the other and reads none of them
//    back: at the end of a sign-in the grant, the code and the session (and it removes the
//    interaction); at the token endpoint the access token and the refresh token. They are held
//    until the request is done and sent as one statement before its response leaves, so that
//    whatever a client can ask any instance next (the code, the session, the tokens) is in the
//    database by then. Reads and conditional writes (find, consume, revoke) first send what is
//    pending, so a request always sees its own writes and the database gets them in order.
//
// 2. Its redemption. The token endpoint marks the code or refresh token used (a conditional UPDATE
//    that exactly one of parallel redemptions wins) and then writes the new tokens. The mark is held
//    with the writes and sent in the same statement, which writes them only if it won: one round
//    trip less per token request, and never a code used up without its tokens being stored. A
//    redemption that lost is refused (invalid_grant) before the response leaves.
//
// 3. The grant read with a token. The provider looks a code or token up and then, in the same
//    request, its grant; the adapter reads both in one statement and the grant waits here for that
//    second lookup (once; any write to the grant, or a revocation, drops it).
//
// Outside a provider request (our interaction pages, the sweeper, the CLI) every write goes out at
// once and every read goes to the database, as before.

type Op = { upsert: UpsertModel } | { remove: ModelKey };
type Consume = ModelKey & { at: Date };

/** Another redemption of the same code or token won. */
const alreadyUsed = () => new errors.InvalidGrant('grant request is invalid: it was already used');

interface Pending {
  ops: Map<string, Op>;
  /** A redemption held with the writes (at most one: a second sends the first). */
  consume: Consume | undefined;
  open: boolean;
  /** The batches sent so far, in order: the next waits for the previous. */
  sent: Promise<void>;
  /** Grants read along with a token, by id (undefined: there is no live grant of that id). */
  grants: Map<string, StoredModel | undefined>;
}

export function createRequestStore(deps: { repo: Pick<OidcModelsRepository, 'upsert' | 'destroy' | 'writeMany' | 'consume' | 'consumeAndWrite'> }) {
  const { repo } = deps;
  const requests = new AsyncLocalStorage<Pending>();

  function split(ops: Map<string, Op>): { upserts: UpsertModel[]; removals: ModelKey[] } {
    const upserts: UpsertModel[] = [];
    const removals: ModelKey[] = [];
    for (const op of ops.values()) {
      if ('upsert' in op) upserts.push(op.upsert);
      else removals.push(op.remove);
    }
    return { upserts, removals };
  }

  /** `ops` keyed by modelKey(), as a request holds them. */
  async function send(ops: Map<string, Op>, consume: Consume | undefined): Promise<void> {
    if (consume) {
      // One statement cannot both mark a row and write it: then the mark goes first, alone.
      if (ops.size === 0 || ops.has(modelKey(consume.model, consume.id))) {
        if (!(await repo.consume(consume.model, consume.id, consume.at))) throw alreadyUsed();
        if (ops.size) await send(ops, undefined);
        return;
      }
      const { upserts, removals } = split(ops);
      if (!(await repo.consumeAndWrite(consume, upserts, removals))) throw alreadyUsed();
      return;
    }
    if (ops.size === 1) {
      const op = ops.values().next().value!;
      return 'upsert' in op ? repo.upsert(op.upsert) : repo.destroy(op.remove.model, op.remove.id);
    }
    const { upserts, removals } = split(ops);
    return repo.writeMany(upserts, removals);
  }

  function flush(p: Pending): Promise<void> {
    if (p.ops.size || p.consume) {
      const ops = p.ops;
      const consume = p.consume;
      p.ops = new Map();
      p.consume = undefined;
      // A failed batch has already failed whoever waited for it; the next one is still sent.
      p.sent = p.sent.catch(() => {}).then(() => send(ops, consume));
    }
    return p.sent;
  }

  const open = () => {
    const p = requests.getStore();
    return p?.open ? p : undefined;
  };

  const forgetGrant = (p: Pending, model: string, id: string) => {
    if (model === 'Grant') p.grants.delete(id);
  };

  /**
   * Runs `fn` as one request: its writes are held and sent when it is done, and a grant read along
   * with a token waits for it. For work on the provider's models outside its own routes (the
   * introspection fast path).
   */
  async function run<T>(fn: () => Promise<T>): Promise<T> {
    const p: Pending = { ops: new Map(), consume: undefined, open: true, sent: Promise.resolve(), grants: new Map() };
    try {
      return await requests.run(p, fn);
    } finally {
      p.open = false;
      p.grants.clear();
      // A failure here answers 503 (StoreUnavailableError) instead of a response whose rows are
      // not stored.
      await guardStore(() => flush(p));
    }
  }

  return {
    run,

    /**
     * Provider middleware: one store per request; its writes are sent before the response. It runs
     * outside the provider's routes and their error handling, so what only the last write can tell
     * (a redemption lost, the store gone) is answered here, as the provider answers errors: the
     * response it had prepared is dropped, with its cookies, and an RFC 6749 error is sent instead.
     */
    async middleware(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
      try {
        await run(next);
      } catch (err) {
        const e = err as errors.OIDCProviderError;
        if (!(err instanceof errors.OIDCProviderError) || (e.status !== 400 && e.status !== 503)) throw err;
        for (const name of ctx.response.headers ? Object.keys(ctx.response.headers) : []) {
          if (!name.startsWith('access-control-')) ctx.remove(name);
        }
        ctx.status = e.status;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: e.error, error_description: e.error_description };
      }
    },

    /** Holds an upsert until the request ends; false outside a provider request (write it now). */
    async upsert(row: UpsertModel): Promise<boolean> {
      const p = open();
      if (!p) return false;
      forgetGrant(p, row.model, row.id);
      const key = modelKey(row.model, row.id);
      // Removed then written again in one request: two statements, in that order (one statement
      // cannot both delete and insert a key, and the new row must start unconsumed).
      if (p.ops.get(key) && 'remove' in p.ops.get(key)!) await flush(p);
      p.ops.set(key, { upsert: row });
      return true;
    },

    /**
     * Holds a redemption (a conditional mark as used) to be sent with the request's writes; false
     * outside a request (send it now). The request learns whether it won when they are sent.
     */
    async consume(model: string, id: string, at: Date): Promise<boolean> {
      const p = open();
      if (!p) return false;
      if (p.consume) await flush(p);
      p.consume = { model, id, at };
      return true;
    },

    /** Holds a removal until the request ends (it replaces a pending upsert of the key); false outside a request. */
    remove(model: string, id: string): boolean {
      const p = open();
      if (!p) return false;
      forgetGrant(p, model, id);
      p.ops.set(modelKey(model, id), { remove: { model, id } });
      return true;
    },

    /** Sends what the current request holds; before any read or conditional write. */
    settle(): Promise<void> {
      const p = requests.getStore();
      return p ? flush(p) : Promise.resolve();
    },

    /** A revocation is coming: no grant read earlier in this request may be handed out. */
    forgetGrants(): void {
      requests.getStore()?.grants.clear();
    },

    /** Keeps a grant read along with a token for this request's lookup of it. */
    keepGrant(id: string, row: StoredModel | undefined): void {
      open()?.grants.set(id, row);
    },

    /** The grant this request read along with a token, once; `found: false` when it was not read. */
    takeGrant(id: string): { found: true; row: StoredModel | undefined } | { found: false } {
      const p = open();
      if (!p?.grants.has(id)) return { found: false };
      const row = p.grants.get(id);
      p.grants.delete(id);
      return { found: true, row };
    },
  };
}

export type RequestStore = ReturnType<typeof createRequestStore>;
