import type { Logger } from 'pino';

// The uses of PATs, kept in memory for a moment and written in one statement for all of them.
// Verification itself is then a read, which never waits for a row lock or a WAL flush; the cost
// is that a process killed outright loses at most FLUSH_AFTER_MS (plus one write) of slides and
// last-use times. Revocation is not affected: it never waits for a use to be written.

/**
 * Uses wait at most this long before being written: what a killed process can lose, which SPEC
 * bounds at 1 s of slide; the other half of that second is left to the write itself. Not shorter:
 * on a busy instance every write is a round trip that wakes a database backend, and that, more than
 * the rows, is what writes cost. Measured build against build on 2 cores, 20,000 tokens checked
 * at random (half of them sliding), in three runs: writes every 100 ms or at 64 uses (about 65 rows
 * each) checked 0–19% fewer tokens per second than writes every 500 ms (about 2,000 rows each), and
 * cost up to 40 µs more CPU per check counting the database's and the kernel's; the cost shows on
 * the slow, contended hours of a shared machine. The database's work per row is the same either way
 * (about 12 µs, an index probe and an update in place). The p99 at half the maximum rate was not
 * worse (11 ms against 30 ms the same hour).
 */
export const FLUSH_AFTER_MS = 500;
/**
 * Uses pending before a write starts at once, without waiting for the timer: bounds one write (this
 * many rows take a database core for about 25 ms). Writes stay one at a time, so under more load
 * than they keep up with, the next one simply carries more rows.
 */
const WRITE_AT = 2048;
/**
 * A write goes out as statements of at most this many uses, one after another, not as one: a
 * statement of a couple of thousand rows took a core from the proxies' checks for 20-30 ms at once,
 * on a machine where Postgres and the service share the cores. Measured on the full bench's
 * 1,000,000 rows at 5,000 checks a second (open model), alternating with the single statement in
 * 11 rounds of 15-20 s over three runs: a median p99 of 25 ms against 55 (better in 9 rounds; the
 * machine's own stalls put single rounds of either past 200 ms; the hello world's: 5-14 ms); and
 * the same maximum rate (12,063 against 11,621 checks a second, 8 alternating rounds).
 */
const WRITE_CHUNK = 128;
/**
 * A fixed-expiry token's use moves nothing but its last-use time, which is there for people to read
 * (the token listings): it is written when that time is this old, or when the use comes from another
 * address, not on every check. Half the writes of a busy proxy were such uses. A sliding token's use
 * moves its expiry and is always written.
 */
export const FIXED_USE_EVERY_MS = 60_000;
/** Uses pending while a write is still running: new uses then wait for it (bounds the memory held). */
const MAX_PENDING = 10_000;

/** The latest use of one token, as it will be written. */
export interface PendingUse {
  /** When it was last used, epoch ms. */
  at: number;
  /** From where, when known: an unknown address keeps the last known one. */
  from: string | null;
  /** Its expiry after that use, epoch ms: a sliding token's moved expiry, 0 for a fixed one (the row's own). */
  expiry: number;
}

/** Writes uses, each token's latest: [token id, use]. */
export interface UseWriter {
  (uses: [string, PendingUse][]): Promise<void>;
}

export function createPatUsage(deps: { write: UseWriter; log: Logger; flushAfterMs?: number }) {
  const flushAfterMs = deps.flushAfterMs ?? FLUSH_AFTER_MS;
  let pending = new Map<string, PendingUse>();
  // Being written now: still consulted, so a token's moved expiry does not vanish mid-write.
  let writing: Map<string, PendingUse> | undefined;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  function merge(into: Map<string, PendingUse>, id: string, use: PendingUse): void {
    const seen = into.get(id);
    if (!seen) return void into.set(id, use);
    // Uses may arrive out of order: the latest time and the furthest expiry win, never go back.
    if (use.at >= seen.at) {
      seen.at = use.at;
      if (use.from !== null) seen.from = use.from;
    } else if (seen.from === null) {
      seen.from = use.from;
    }
    seen.expiry = Math.max(seen.expiry, use.expiry);
  }

  async function flush(): Promise<void> {
    while (inFlight) await inFlight; // one write at a time
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    writing = batch;
    inFlight = (async () => {
      const uses = [...batch];
      let written = 0;
      try {
        for (; written < uses.length; written += WRITE_CHUNK) await deps.write(uses.slice(written, written + WRITE_CHUNK));
      } catch (err) {
        // What was not written is kept for the next write (the database may be back by then); newer uses merge in.
        deps.log.warn({ err, uses: uses.length - written }, 'could not record personal access token uses; will retry');
        for (const [id, use] of uses.slice(written)) merge(pending, id, use);
        schedule();
      } finally {
        writing = undefined;
        inFlight = undefined;
      }
    })();
    await inFlight;
  }

  function schedule(): void {
    if (timer || pending.size === 0) return;
    timer = setTimeout(() => void flush(), flushAfterMs);
    timer.unref();
  }

  return {
    /** The expiry the pending uses of a token moved it to, if any. */
    expiryOf(id: string): number | undefined {
      const a = pending.get(id)?.expiry;
      const b = writing?.get(id)?.expiry;
      return a === undefined ? b : b === undefined ? a : Math.max(a, b);
    },
    /**
     * Notes a good use. Returns nothing, or a promise to wait for when the writes cannot keep up (a
     * check then answers once they have): not an async function, which would cost every check a turn.
     */
    record(id: string, use: PendingUse): Promise<void> | undefined {
      merge(pending, id, { ...use });
      if (pending.size >= MAX_PENDING) return flush();
      if (pending.size >= WRITE_AT && !inFlight) void flush();
      else schedule();
      return undefined;
    },
    /** True when a use noted now would have to wait for a write (`record` would return a promise). */
    behind(): boolean {
      return pending.size + 1 >= MAX_PENDING;
    },
    /** Writes what is pending now (before a listing, and at shutdown). */
    flush,
  };
}

export type PatUsage = ReturnType<typeof createPatUsage>;
