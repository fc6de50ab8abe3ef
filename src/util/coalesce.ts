// Lookups by key go to the database many at a time. A quiet server sends a lookup at the end of the
// turn of the event loop it arrived in (so a lone request waits for nothing). A busy one lets lookups
// gather while its queries are out: at most `maxInFlight` fetches run at once, and whatever arrived
// meanwhile goes out in the next, as one statement. The busier the server, the larger the batches,
// and the fewer round trips — each one a write to the socket and a statement for the database to
// parse, bind and run, which at thousands of checks a second cost more than the lookups themselves.
// Misses resolve to undefined.

export interface Coalescer<K, V> {
  load(key: K): Promise<V | undefined>;
}

interface Caller<V> {
  resolve: (v: V | undefined) => void;
  reject: (e: unknown) => void;
}

export function createCoalescer<K, V>(opts: {
  /** Looks up many keys at once; keys not in the result are misses. */
  fetch(keys: K[]): Promise<Map<K, V>>;
  /** At most this many keys per query (bounds the statement and what waits on it). */
  maxBatch?: number;
  /** At most this many fetches at once; later lookups wait for one to end and go out together. */
  maxInFlight?: number;
}): Coalescer<K, V> {
  const maxBatch = opts.maxBatch ?? 100;
  const maxInFlight = opts.maxInFlight ?? 2;
  let waiting = new Map<K, Caller<V>[]>();
  let scheduled = false;
  let inFlight = 0;

  function dispatch(batch: Map<K, Caller<V>[]>): void {
    inFlight++;
    let fetched: Promise<Map<K, V>>;
    try {
      fetched = opts.fetch([...batch.keys()]);
    } catch (err) {
      fetched = Promise.reject(err);
    }
    fetched
      .then(
        (found) => {
          for (const [key, callers] of batch) for (const c of callers) c.resolve(found.get(key));
        },
        (err) => {
          for (const callers of batch.values()) for (const c of callers) c.reject(err);
        },
      )
      .finally(() => {
        inFlight--;
        schedule();
      });
  }

  function drain(): void {
    scheduled = false;
    while (waiting.size > 0 && inFlight < maxInFlight) {
      let batch = waiting;
      if (waiting.size > maxBatch) {
        batch = new Map();
        for (const [key, callers] of waiting) {
          batch.set(key, callers);
          waiting.delete(key);
          if (batch.size === maxBatch) break;
        }
      } else {
        waiting = new Map();
      }
      dispatch(batch);
    }
  }

  function schedule(): void {
    if (scheduled || waiting.size === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    setImmediate(drain);
  }

  return {
    load(key) {
      return new Promise((resolve, reject) => {
        const callers = waiting.get(key);
        if (callers) callers.push({ resolve, reject });
        else waiting.set(key, [{ resolve, reject }]);
        schedule();
      });
    },
  };
}
