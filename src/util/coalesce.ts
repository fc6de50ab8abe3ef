// Lookups by key that arrive in the same turn of the event loop go to the database as one query.
// Under load, requests are parsed many per turn (one I/O callback each, then the check phase), so a
// busy server sends one statement for dozens of lookups instead of one each; a quiet one waits for
// nothing more than the end of the current turn. Misses resolve to undefined.

export interface Coalescer<K, V> {
  load(key: K): Promise<V | undefined>;
}

export function createCoalescer<K, V>(opts: {
  /** Looks up many keys at once; keys not in the result are misses. */
  fetch(keys: K[]): Promise<Map<K, V>>;
  /** At most this many keys per query (bounds the statement and what waits on it). */
  maxBatch?: number;
}): Coalescer<K, V> {
  const maxBatch = opts.maxBatch ?? 100;
  let waiting = new Map<K, { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[]>();
  let scheduled = false;

  function dispatch(batch: typeof waiting): void {
    opts.fetch([...batch.keys()]).then(
      (found) => {
        for (const [key, callers] of batch) for (const c of callers) c.resolve(found.get(key));
      },
      (err) => {
        for (const callers of batch.values()) for (const c of callers) c.reject(err);
      },
    );
  }

  function drain(): void {
    scheduled = false;
    const all = waiting;
    waiting = new Map();
    let batch = new Map<K, { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[]>();
    for (const [key, callers] of all) {
      batch.set(key, callers);
      if (batch.size === maxBatch) {
        dispatch(batch);
        batch = new Map();
      }
    }
    if (batch.size) dispatch(batch);
  }

  return {
    load(key) {
      return new Promise((resolve, reject) => {
        const callers = waiting.get(key);
        if (callers) callers.push({ resolve, reject });
        else waiting.set(key, [{ resolve, reject }]);
        if (!scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      });
    },
  };
}
