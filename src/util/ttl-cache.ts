// A small cache with a lifetime and a size bound, for lookups whose answer may be a moment old
// (never for secrets' validity: a PAT is read on every use). When full, the oldest entry goes.

export interface TtlCache<K, V> {
  /** The cached answer (undefined included), or a fresh one from `load`. */
  get(key: K, load: (key: K) => Promise<V>): Promise<V>;
  /**
   * The cached answer now, without waiting or loading: `{ value }` once a load has settled and while
   * it is fresh, undefined otherwise (then `get`). For hot paths that may go on synchronously.
   */
  peek(key: K): { value: V } | undefined;
  /** Keeps an answer this instance just read elsewhere (so the next ask needs no load). */
  set(key: K, value: V): void;
  /** Forgets one key (this instance changed it: its next reader must not see the old answer). */
  delete(key: K): void;
  clear(): void;
}

/** A load's promise, kept until `until`; `settled` once it has resolved (what `peek` gives). */
interface Entry<V> {
  value: Promise<V>;
  until: number;
  settled?: { value: V };
}

export function createTtlCache<K, V>(opts: { ttlMs: number; max: number; now?: () => number }): TtlCache<K, V> {
  const now = opts.now ?? Date.now;
  const entries = new Map<K, Entry<V>>();
  return {
    get(key, load) {
      const hit = entries.get(key);
      if (hit && hit.until > now()) return hit.value;
      entries.delete(key);
      if (entries.size >= opts.max) entries.delete(entries.keys().next().value as K);
      // The promise itself is cached, so concurrent misses share one load; a failure is not kept.
      const value = load(key);
      const entry: Entry<V> = { value, until: now() + opts.ttlMs };
      entries.set(key, entry);
      value.then(
        (settled) => void (entry.settled = { value: settled }),
        () => {
          if (entries.get(key) === entry) entries.delete(key);
        },
      );
      return value;
    },
    peek(key) {
      const hit = entries.get(key);
      return hit && hit.until > now() ? hit.settled : undefined;
    },
    set(key, value) {
      entries.delete(key);
      if (entries.size >= opts.max) entries.delete(entries.keys().next().value as K);
      entries.set(key, { value: Promise.resolve(value), until: now() + opts.ttlMs, settled: { value } });
    },
    delete: (key) => void entries.delete(key),
    clear: () => entries.clear(),
  };
}
