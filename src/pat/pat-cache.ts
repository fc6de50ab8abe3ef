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
// - Bounded: `size` entries, about the least recently used go first; each is read again after MAX_AGE_MS (5 min).
// - Sliding expiries need no feed: they only move forward, and a kept expiry that has passed sends
//   the check to the database (another instance may have moved it).

export const POLL_MS = 100;
export const FRESH_MS = 300;
/** A change made through cells-auth answers after this: every instance has seen it, or trusts no kept answer. */
export const SETTLE_MS = FRESH_MS + 50;
/**
 * Even with no change seen, an answer is read again after this long. Not for correctness (the feed
 * is that): a bound on what a feed that silently missed something could cost. Each re-read is a miss,
 * so not much shorter: a proxy's 100,000 tokens would cost 1,700 reads a second at one minute.
 */
const MAX_AGE_MS = 5 * 60_000;
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

/** What is kept of a token: the answer (its strings shared where they can be), when, and whether used since. */
interface Kept extends VerifiedRow {
  at: number;
  used: boolean;
  /** Its place on the clock (see evictSlot). */
  slot: number;
}

type Owner = Pick<VerifiedRow, 'user_id' | 'login' | 'roles'>;

const NO_GRANTS: VerifiedRow['grants'] = Object.freeze([]) as unknown as VerifiedRow['grants'];

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
  misses: number;
  /** The feed was read in time: kept answers are in use. */
  fresh: boolean;
}

export interface PatCache {
  /** The kept answer for a digest, if there is one and the feed is fresh. */
  get(digest: string): VerifiedRow | undefined;
  /** Taken before a lookup; `set` keeps its answer only if no change arrived meanwhile. */
  ticket(): number;
  /** Keeps the row (unless a change arrived since the ticket); returns what is kept, or the row itself. */
  set(digest: string, row: VerifiedRow, ticket: number): VerifiedRow;
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
  const entries = new Map<string, Kept>();
  // The clock: every kept entry has a slot, the hand goes round them to find one to evict. An array
  // of its own, not the map's insertion order: taking entries off the front of a Map leaves holes
  // that every later walk from the front steps over until the table is rebuilt, and with more
  // tokens than room (the full bench: 100,000 for 50,000) that walk cost more than the reads saved.
  const slots: (Kept | undefined)[] = [];
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
  let misses = 0;

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
    for (const [digest, e] of entries) if (tokens.has(e.id) || users.has(e.user_id)) drop(digest);
    for (const user of users) owners.delete(user);
  }

  function clear(): void {
    entries.clear();
    owners.clear();
    slots.length = 0;
    freeSlots.length = 0;
    hand = 0;
  }

  function drop(digest: string): void {
    const e = entries.get(digest);
    if (!e) return;
    entries.delete(digest);
    slots[e.slot] = undefined;
    freeSlots.push(e.slot);
  }

  function owner(row: VerifiedRow): Owner {
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
    if (slots.length < deps.size) return slots.length;
    for (;;) {
      const slot = hand;
      hand = (hand + 1) % slots.length;
      const e = slots[slot];
      if (!e) return slot; // (never: a freed slot is taken from freeSlots first)
      if (e.used) {
        e.used = false;
        continue;
      }
      entries.delete(e.digest);
      return slot;
    }
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
    get(digest) {
      const e = fresh() ? entries.get(digest) : undefined;
      if (!e || now() - e.at > MAX_AGE_MS) {
        misses++;
        return undefined;
      }
      hits++;
      // Marked, not moved: moving it (delete and set) on every check churns the map's table.
      e.used = true;
      return e;
    },
    ticket: () => generation,
    set(digest, row, ticket) {
      if (!running || ticket !== generation) return row;
      drop(digest);
      const o = owner(row);
      const kept: Kept = {
        digest,
        id: row.id,
        user_id: o.user_id,
        login: o.login,
        roles: o.roles,
        label: row.label,
        created_ms: row.created_ms,
        expires_ms: row.expires_ms,
        window_seconds: row.window_seconds,
        current_expiry_ms: row.current_expiry_ms,
        last_used_ms: row.last_used_ms,
        last_used_from: row.last_used_from,
        grants: row.grants.length === 0 ? NO_GRANTS : row.grants,
        at: now(),
        used: false,
        slot: takeSlot(),
      };
      slots[kept.slot] = kept;
      entries.set(digest, kept);
      return kept;
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
    stats: () => ({ size: entries.size, hits, misses, fresh: fresh() }),
  };
}
