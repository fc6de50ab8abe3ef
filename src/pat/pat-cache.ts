import type { Logger } from 'pino';
import type { VerifiedRow } from './pat.repository.ts';

// The PATs this instance verified lately, by digest, so that a proxy checking every request of a
// sync client does not cost a database read each time. Correct only with the change feed beside it:
// every change that can make a kept answer wrong (a revocation, a shortened expiry, other node
// scopes, an owner locked, renamed or deleted) is written to pat_changes by a trigger, whoever made
// it, and this instance reads what is new every POLL_MS.
//
// - An answer is used only while the latest read of the feed began less than FRESH_MS ago. A feed
//   that cannot be read (the database away, the process starved) therefore makes every check a
//   database read again within FRESH_MS: it fails closed.
// - So a change committed at T is honoured by every instance from T + FRESH_MS on. A change made
//   through cells-auth (the admin API, the CLI) waits SETTLE_MS before it answers, so that when
//   the revoker hears "done", every instance already refuses (SPEC §6.3: at once, everywhere).
// - A lookup that was under way while a change arrived is not kept: it may have read the row before
//   the change, after the feed already dropped that row's entry.
// - Not kept at all: unknown tokens (anyone can send many; each is a read, as before).
// - Bounded: `size` entries, about the least recently used go first; each is read again within MAX_AGE_MS (5 min).
// - Sliding expiries need no feed: they only move forward, and a kept expiry that has passed sends
//   the check to the database (another instance may have moved it).

export const POLL_MS = 100;
export const FRESH_MS = 300;
/** A change made through cells-auth answers after this: every instance has seen it, or trusts no kept answer. */
export const SETTLE_MS = FRESH_MS + 50;
/**
 * Even with no change seen, an answer is read again within this long. Not for correctness (the feed
 * is that): a bound on what a feed that silently missed something could cost. Each re-read is a miss,
 * so not much shorter: a proxy's 100,000 tokens would cost 1,700 reads a second at one minute. Each
 * entry's own age is drawn between half of it and all of it, so that tokens kept together (a
 * restart's warm-up, when every client comes back at once) are not all read again in the same
 * second, five minutes later and every five minutes after that.
 */
export const MAX_AGE_MS = 5 * 60_000;
/**
 * A kept token checked within this long of being read again is read again then, in the background
 * (pat.service.ts), while memory still answers: a token in use — a sync client's, a proxy's — is
 * never waited on for its periodic read, and tokens kept together (a restart's warm-up) are read
 * again as they are used, not in a wave of checks that each wait. Only a token unused for this long
 * waits for its read.
 */
export const READ_AHEAD_MS = 60_000;
/** More new changes than this in one read (a purge): everything is forgotten instead of searched. */
export const MAX_CHANGES = 10_000;
/** After a feed outage this long, nothing kept is trusted (the feed's rows are pruned after an hour). */
const GAP_MS = 10 * 60_000;
/** How long the feed's rows are kept (long past the longest outage the cache survives). */
export const KEEP_CHANGES_MS = 60 * 60_000;
const PRUNE_EVERY_MS = 5 * 60_000;

export interface PatChange {
  seq: number;
  token: string | null;
  user: string | null;
}

/** What a check reads of a kept token: a copy of its own, whole across an await whatever the cache does meanwhile. */
export type KeptRow = Omit<VerifiedRow, 'digest'>;

type Owner = Pick<VerifiedRow, 'user_id' | 'login' | 'roles'>;

const NO_GRANTS: VerifiedRow['grants'] = Object.freeze([]) as unknown as VerifiedRow['grants'];

// A kept token's numbers, STRIDE to a slot in one Float64Array; a null is NaN.
const CREATED = 0;
const EXPIRES = 1;
const WINDOW = 2;
const EXPIRY = 3;
const LAST_USED = 4;
/** When it is to be read again (monotonic; see MAX_AGE_MS). */
const READ_AGAIN_AT = 5;
const STRIDE = 6;
/** The columns start this big and double as they fill, up to the bound: an idle server holds little. */
const FIRST_CAPACITY = 1024;

const orNull = (n: number) => (Number.isNaN(n) ? null : n);

export interface ChangeFeed {
  /**
   * The changes not visible to the snapshot whose xmin is given (every change, from null: then
   * none are returned), at most `limit`, with the xmin of this read's own snapshot.
   */
  read(xmin: string | null, limit: number): Promise<{ xmin: string; changes: PatChange[] }>;
  prune(before: Date): Promise<void>;
}

export interface PatCacheStats {
  size: number;
  hits: number;
  /** Checks memory could not answer, for each reason: the sum of the three below. */
  misses: number;
  /** The token was not kept (first seen, or evicted). */
  unknown: number;
  /** Kept, but its time to be read again (MAX_AGE_MS) had come without a read ahead. */
  due: number;
  /** The change feed was not read in time (FRESH_MS): nothing kept was trusted. */
  stale: number;
  /** The feed was read in time: kept answers are in use. */
  fresh: boolean;
}

export interface PatCache {
  /**
   * A copy of the kept answer for a key (patKey), if there is one and the feed is fresh. `countMiss`
   * false: a first look whose miss the caller's lookup will count (one check, one miss).
   */
  get(key: string, countMiss?: boolean): KeptRow | undefined;
  /** Taken before a lookup; `set` keeps its answer only if no change arrived meanwhile. */
  ticket(): number;
  /** Keeps the row under the key, unless a change arrived since the ticket. */
  set(key: string, row: KeptRow, ticket: number): void;
  /** True when the token is kept and to be read again within READ_AHEAD_MS: time to read it ahead. */
  readAheadDue(key: string): boolean;
  /** A use about to be written, noted on the kept token (if still kept) for the checks after it. */
  noteUse(key: string, at: number, from: string | null): void;
  start(): void;
  stop(): void;
  /** Reads the feed once now (tests, and start). */
  poll(): Promise<void>;
  stats(): PatCacheStats;
}

export function createPatCache(deps: {
  size: number;
  feed: ChangeFeed;
  log: Logger;
  /** Monotonic milliseconds. */
  now?: () => number;
  pollMs?: number;
}): PatCache {
  const now = deps.now ?? (() => performance.now());
  const pollMs = deps.pollMs ?? POLL_MS;
  // Kept as columns indexed by slot, not as an object per token: 100,000 tokens with the bench's
  // mix of owners and node grants take about 300 bytes each of heap and array buffers this way,
  // where an object each (with its label, which no check reads) took 510. The key is the digest in
  // binary (patKey); the numbers share one Float64Array.
  const index = new Map<string, number>();
  /** Each slot's key; undefined for a free slot. */
  const keys: (string | undefined)[] = [];
  const ids: (string | undefined)[] = [];
  const ownerOf: (Owner | undefined)[] = [];
  const grantsOf: (VerifiedRow['grants'] | undefined)[] = [];
  const fromOf: (string | null | undefined)[] = [];
  /** The columns of references, emptied together. */
  const columns = [keys, ids, ownerOf, grantsOf, fromOf];
  let numbers = new Float64Array(0);
  /** Used since the hand last passed (see takeSlot). */
  let used = new Uint8Array(0);
  /** Slots handed out so far (free or not); never more than the bound. */
  let count = 0;
  // The clock: the hand goes round the slots to find one to evict. Not the map's insertion order:
  // taking entries off the front of a Map leaves holes that every later walk from the front steps
  // over until the table is rebuilt, and with more tokens than room (measured: 100,000 tokens for
  // 50,000 places) that walk cost more than the reads saved.
  const freeSlots: number[] = [];
  let hand = 0;
  // One copy of an owner's id, login and roles for all of their kept tokens (a sync client, a
  // proxy's service account: many tokens, few owners). Only ever a saving: cleared when it outgrows
  // the cache, and compared, not trusted, on every use.
  const owners = new Map<string, Owner>();
  let generation = 0;
  let xmin: string | null = null;
  /** When the latest read whose changes are applied began; undefined before the first. */
  let freshSince: number | undefined;
  let seen = new Set<number>();
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let polling: Promise<void> | undefined;
  let lastPrune = now();
  let hits = 0;
  let unknown = 0;
  let due = 0;
  let stale = 0;

  const fresh = () => freshSince !== undefined && now() - freshSince < FRESH_MS;

  function forget(changes: PatChange[]): void {
    generation++;
    if (changes.length > MAX_CHANGES) return clear();
    const tokens = new Set<string>();
    const users = new Set<string>();
    for (const c of changes) {
      if (c.token) tokens.add(c.token);
      if (c.user) users.add(c.user);
    }
    for (let slot = 0; slot < count; slot++) {
      const key = keys[slot];
      if (key !== undefined && (tokens.has(ids[slot]!) || users.has(ownerOf[slot]!.user_id))) drop(slot);
    }
    for (const user of users) owners.delete(user);
  }

  function clear(): void {
    index.clear();
    owners.clear();
    for (const column of columns) column.length = 0;
    count = 0;
    freeSlots.length = 0;
    hand = 0;
  }

  function drop(slot: number): void {
    index.delete(keys[slot]!);
    for (const column of columns) column[slot] = undefined;
    freeSlots.push(slot);
  }

  function owner(row: KeptRow): Owner {
    const known = owners.get(row.user_id);
    if (known && known.login === row.login && known.roles.length === row.roles.length && known.roles.every((r, i) => r === row.roles[i])) return known;
    if (owners.size >= deps.size) owners.clear();
    const fresh: Owner = { user_id: row.user_id, login: row.login, roles: row.roles };
    owners.set(row.user_id, fresh);
    return fresh;
  }

  /**
   * A slot for a new entry: a free one, a new one while under the bound, else the first entry the
   * hand finds not used since it last passed (the "clock" approximation of least recently used; a
   * used one loses its mark and is passed over). One turn of the hand at most.
   */
  function takeSlot(): number {
    const free = freeSlots.pop();
    if (free !== undefined) return free;
    if (count < deps.size) {
      if (count === used.length) grow();
      return count++;
    }
    for (;;) {
      const slot = hand;
      hand = (hand + 1) % count;
      if (used[slot]) {
        used[slot] = 0;
        continue;
      }
      // (Never a free slot: those are taken from freeSlots first.)
      index.delete(keys[slot]!);
      return slot;
    }
  }

  function grow(): void {
    const capacity = Math.min(deps.size, Math.max(FIRST_CAPACITY, used.length * 2));
    const moreNumbers = new Float64Array(capacity * STRIDE);
    moreNumbers.set(numbers);
    numbers = moreNumbers;
    const moreUsed = new Uint8Array(capacity);
    moreUsed.set(used);
    used = moreUsed;
  }

  function read(slot: number): KeptRow {
    const o = ownerOf[slot]!;
    const at = slot * STRIDE;
    return {
      id: ids[slot]!,
      user_id: o.user_id,
      login: o.login,
      roles: o.roles,
      created_ms: numbers[at + CREATED]!,
      expires_ms: orNull(numbers[at + EXPIRES]!),
      window_seconds: orNull(numbers[at + WINDOW]!),
      current_expiry_ms: numbers[at + EXPIRY]!,
      last_used_ms: orNull(numbers[at + LAST_USED]!),
      last_used_from: fromOf[slot]!,
      grants: grantsOf[slot]!,
    };
  }

  async function readOnce(): Promise<void> {
    const sent = now();
    try {
      // The first read, or the first after a long outage: what changed before it is unknown, so
      // nothing kept (or being looked up now) is trusted; later reads see every change after it.
      const restart = xmin === null || (freshSince !== undefined && sent - freshSince > GAP_MS);
      const result = await deps.feed.read(restart ? null : xmin, MAX_CHANGES + 1);
      if (restart) {
        generation++;
        clear();
        xmin = null;
      }
      const news = result.changes.filter((c) => !seen.has(c.seq));
      if (news.length > 0) forget(news);
      seen = new Set(result.changes.map((c) => c.seq));
      // Snapshots' xmin does not go back; should one, the earlier bound still covers everything new.
      if (xmin === null || BigInt(result.xmin) > BigInt(xmin)) xmin = result.xmin;
      freshSince = sent;
      if (failing) deps.log.info('personal access token change feed read again: kept answers in use');
      failing = false;
    } catch (err) {
      if (!failing) deps.log.warn({ err }, 'personal access token change feed unreadable: every check reads the database');
      failing = true;
    }
    if (sent - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = sent;
      await deps.feed.prune(new Date(Date.now() - KEEP_CHANGES_MS)).catch((err) => deps.log.warn({ err }, 'could not prune personal access token changes'));
    }
  }

  function poll(): Promise<void> {
    return (polling ??= readOnce().finally(() => (polling = undefined)));
  }

  function loop(): void {
    if (!running) return;
    const began = now();
    void poll().then(() => {
      if (!running) return;
      timer = setTimeout(loop, Math.max(0, pollMs - (now() - began)));
      timer.unref();
    });
  }

  return {
    get(key, countMiss = true) {
      if (!fresh()) {
        if (countMiss) stale++;
        return undefined;
      }
      const slot = index.get(key);
      if (slot === undefined) {
        if (countMiss) unknown++;
        return undefined;
      }
      if (now() > numbers[slot * STRIDE + READ_AGAIN_AT]!) {
        if (countMiss) due++;
        return undefined;
      }
      hits++;
      // Marked, not moved: moving it (delete and set) on every check churns the map's table.
      used[slot] = 1;
      return read(slot);
    },
    ticket: () => generation,
    set(key, row, ticket) {
      if (!running || ticket !== generation) return;
      let slot = index.get(key);
      if (slot === undefined) {
        slot = takeSlot();
        index.set(key, slot);
        keys[slot] = key;
      }
      ids[slot] = row.id;
      ownerOf[slot] = owner(row);
      grantsOf[slot] = row.grants.length === 0 ? NO_GRANTS : row.grants;
      fromOf[slot] = row.last_used_from;
      const at = slot * STRIDE;
      numbers[at + CREATED] = row.created_ms;
      numbers[at + EXPIRES] = row.expires_ms ?? NaN;
      numbers[at + WINDOW] = row.window_seconds ?? NaN;
      numbers[at + EXPIRY] = row.current_expiry_ms;
      numbers[at + LAST_USED] = row.last_used_ms ?? NaN;
      numbers[at + READ_AGAIN_AT] = now() + MAX_AGE_MS * (0.5 + Math.random() / 2);
      used[slot] = 0;
    },
    readAheadDue(key) {
      const slot = index.get(key);
      return slot !== undefined && now() > numbers[slot * STRIDE + READ_AGAIN_AT]! - READ_AHEAD_MS;
    },
    noteUse(key, at, from) {
      const slot = index.get(key);
      if (slot === undefined) return;
      numbers[slot * STRIDE + LAST_USED] = at;
      if (from !== null) fromOf[slot] = from;
    },
    start() {
      if (running || deps.size <= 0) return;
      running = true;
      loop();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    poll,
    stats: () => ({ size: index.size, hits, misses: unknown + due + stale, unknown, due, stale, fresh: fresh() }),
  };
}
