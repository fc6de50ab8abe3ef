import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ForbiddenError, UnavailableError } from '../errors/app-error.ts';
import type { Clock } from '../util/clock.ts';
import { createCoalescer } from '../util/coalesce.ts';
import { createPatCache, SETTLE_MS, type KeptRow } from './pat-cache.ts';
import { createPatUsage, FIXED_USE_EVERY_MS } from './pat-usage.ts';
import type { PatRepository, PatRowWithGrants } from './pat.repository.ts';
import { formatScope, type NodeGrant } from './scopes.ts';
import { digestOfKey, generatePat, isWellFormedPat, patDigest, patKey } from './token-format.ts';
import type { TokenRequest } from './token-request.ts';

/** A token as listed: never the secret. */
export interface PatView {
  id: string;
  userId: string;
  label: string;
  status: 'active' | 'expired' | 'revoked';
  createdAt: string;
  createdBy: { userId: string | null; login: string | null; via: 'cli' | 'admin' | 'self' };
  /** Hard expiry, or null for a token that only slides. */
  expiresAt: string | null;
  /** Sliding window in seconds, or null. */
  autoRefreshSeconds: number | null;
  /** When it stops working unless used again (for a sliding token). */
  currentExpiry: string;
  lastUsedAt: string | null;
  lastUsedFrom: string | null;
  revokedAt: string | null;
  scopes: string[];
}

/** A token that was just used successfully. */
export interface VerifiedPat {
  tokenId: string;
  userId: string;
  login: string;
  roles: string[];
  grants: NodeGrant[];
  createdAt: Date;
  /** The expiry after this use. */
  expiresAt: Date;
  /** The hard expiry, or null for a token that only slides. */
  hardExpiresAt: Date | null;
}

export interface MintInput {
  owner: { id: string };
  request: TokenRequest;
  label?: string | null;
  createdBy: string | null;
  createdVia: 'cli' | 'admin' | 'self';
  /** The new token may not outlive this (the hard expiry of the PAT minting it). */
  notAfter?: Date;
}

export type RevokeResult = 'revoked' | 'already-revoked' | 'not-found';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Kept tokens read again ahead of their time (a minute ahead, pat-cache.ts) are gathered for up to
 * this long, or until a statement's worth (util/coalesce.ts sends up to 100 digests in one), and
 * sent together: nothing waits for them, and a statement's round trip and its parse and plan cost
 * more than the lookups in it. Sent as they came, they went out a few to a statement: with 100,000
 * tokens in use (the bench's full run) gathering them took the database's CPU per PAT introspection
 * from 14-20 µs to 8-12.
 */
export const READ_AHEAD_GATHER_MS = 100;
const READ_AHEAD_BATCH = 100;
/**
 * At most this many gathered or being read at once: two statements' worth, as many as util/coalesce.ts
 * sends at a time, so that a check that must read waits behind one statement at most.
 */
const READ_AHEAD_AT_ONCE = 2 * READ_AHEAD_BATCH;

/** A sliding token's every use; a fixed one's when its written use is a minute old or from elsewhere (pat-usage.ts). */
const useToWrite = (row: KeptRow, now: number, address: string | null) =>
  row.window_seconds !== null ||
  row.last_used_ms === null ||
  now - row.last_used_ms >= FIXED_USE_EVERY_MS ||
  (address !== null && address !== row.last_used_from);

export function createPatService(deps: {
  repo: PatRepository;
  clock: Clock;
  log: Logger;
  flushAfterMs?: number;
  /** Verified tokens kept in memory (pat-cache.ts), once `watch()` has started its change feed. */
  cacheSize?: number;
  /** The kept tokens' clock, monotonic milliseconds (tests move it). */
  monotonic?: () => number;
}) {
  const { repo, clock, log } = deps;
  const cache = createPatCache({
    size: deps.cacheSize ?? 0,
    log,
    feed: { read: repo.changesSince, prune: repo.pruneChanges },
    now: deps.monotonic,
  });
  const usage = createPatUsage({
    log,
    flushAfterMs: deps.flushAfterMs,
    write: (uses) => repo.recordUses(uses.map(([id, u]) => ({ id, atMs: u.at, from: u.from, slidToMs: u.expiry > 0 ? u.expiry : null }))),
  });
  const lookups = createCoalescer({ fetch: repo.lookup });
  // Kept tokens read again ahead of their time (READ_AHEAD_MS), gathered and sent together, a
  // bounded number at a time so that they never crowd out the checks' own reads; after a read that
  // failed, none for a second (the store is away, and each check of a token past its time reads it,
  // and says so, on its own).
  const readingAhead = new Set<string>();
  let gathered: string[] = [];
  let gathering: NodeJS.Timeout | undefined;
  let readAheadPausedUntil = 0;
  function readAhead(key: string): void {
    if (readingAhead.size >= READ_AHEAD_AT_ONCE || readingAhead.has(key) || !cache.readAheadDue(key) || clock.now() < readAheadPausedUntil) return;
    readingAhead.add(key);
    gathered.push(key);
    if (gathered.length >= READ_AHEAD_BATCH) sendReadAheads();
    else gathering ??= setTimeout(sendReadAheads, READ_AHEAD_GATHER_MS).unref();
  }
  function sendReadAheads(): void {
    const keys = gathered;
    gathered = [];
    clearTimeout(gathering);
    gathering = undefined;
    // One ticket for them all, taken as the read begins: a change that arrives meanwhile keeps
    // every one of them from being kept.
    const ticket = cache.ticket();
    // Asked in one turn, they go out together (util/coalesce.ts).
    for (const key of keys) {
      lookups
        .load(digestOfKey(key))
        .then(
          (row) => row && cache.set(key, row, ticket),
          (err: unknown) => {
            if (clock.now() >= readAheadPausedUntil) log.warn({ err }, 'reading kept personal access tokens again failed; each is read when next checked after its time');
            readAheadPausedUntil = clock.now() + 1000;
          },
        )
        .finally(() => readingAhead.delete(key));
    }
  }

  /** Good until the later of the stored expiry and the one this instance's unwritten uses moved it to. */
  const expiryOf = (r: KeptRow) => Math.max(r.current_expiry_ms, usage.expiryOf(r.id) ?? 0);

  function toView(row: PatRowWithGrants, now: number): PatView {
    return {
      id: row.id,
      userId: row.user_id,
      label: row.label,
      status: row.revoked_at ? 'revoked' : row.current_expiry.getTime() <= now ? 'expired' : 'active',
      createdAt: row.created_at.toISOString(),
      createdBy: { userId: row.created_by, login: row.created_by_login, via: row.created_via },
      expiresAt: iso(row.expires_at),
      autoRefreshSeconds: row.window_seconds,
      currentExpiry: row.current_expiry.toISOString(),
      lastUsedAt: iso(row.last_used_at),
      lastUsedFrom: row.last_used_from,
      revokedAt: iso(row.revoked_at),
      scopes: row.grants.map(formatScope),
    };
  }

  /** Mints a token. The secret is in the result, once; only its digest is stored. */
  async function mint(input: MintInput): Promise<{ token: string; pat: PatView }> {
    const now = clock.now();
    const { expireSeconds, windowSeconds, grants } = input.request;
    if (expireSeconds === null && windowSeconds === null) throw new TypeError('a token needs an expiry or a window');
    const expiresAt = expireSeconds === null ? null : now + expireSeconds * 1000;
    // Both given: the window applies and the hard expiry caps it (SPEC §6.1).
    if (input.notAfter && (expiresAt === null || expiresAt > input.notAfter.getTime())) {
      throw new ForbiddenError(`a token minted with a personal access token cannot outlive it: give an expiry ending by ${input.notAfter.toISOString()}`);
    }
    const currentExpiry = windowSeconds === null ? expiresAt! : Math.min(now + windowSeconds * 1000, expiresAt ?? Infinity);
    const token = generatePat();
    const row = await repo.insert(
      {
        id: randomUUID(),
        userId: input.owner.id,
        label: input.label ?? '',
        digest: patDigest(token),
        createdAt: new Date(now),
        createdBy: input.createdBy,
        createdVia: input.createdVia,
        expiresAt: expiresAt === null ? null : new Date(expiresAt),
        windowSeconds,
        currentExpiry: new Date(currentExpiry),
      },
      grants,
    );
    return { token, pat: toView({ ...row, grants, created_by_login: null, last_used_at: null, last_used_from: null }, now) };
  }

  async function list(userId: string): Promise<PatView[]> {
    await usage.flush(); // this instance's latest uses show at once
    const now = clock.now();
    return (await repo.listByUser(userId)).map((row) => toView(row, now));
  }

  async function revoke(id: string, ownerId?: string): Promise<RevokeResult> {
    if (await repo.revoke(id, new Date(clock.now()), ownerId)) {
      await settle();
      return 'revoked';
    }
    return (await repo.find(id, ownerId)) ? 'already-revoked' : 'not-found';
  }

  /**
   * SPEC §6.3. Undefined for a token that is not good (malformed — refused before any query —
   * unknown, revoked, expired, or its owner locked). A storage failure throws UnavailableError: it
   * must never read as "inactive". The use (slide, last use) is written shortly after, with others
   * (pat-usage.ts). A token verified lately is answered from memory while the change feed is fresh
   * (pat-cache.ts), which is how a revocation reaches every instance.
   */
  async function verify(token: string, address: string | null = null): Promise<VerifiedPat | undefined> {
    if (!isWellFormedPat(token)) return undefined;
    const now = clock.now();
    const key = patKey(token);
    let row = cache.get(key);
    if (row) readAhead(key);
    // A kept expiry that has passed is read again: another instance may have moved it.
    if (!row || now >= expiryOf(row)) {
      const ticket = cache.ticket();
      try {
        row = await lookups.load(digestOfKey(key));
      } catch (err) {
        log.error({ err }, 'personal access token lookup failed');
        throw new UnavailableError();
      }
      if (!row) return undefined;
      cache.set(key, row, ticket);
    }
    const accepted = accept(key, row, now, address);
    if (accepted?.waiting) await accepted.waiting;
    return accepted?.verified;
  }

  /**
   * The answer memory alone gives: a kept token good now, its use noted. Undefined when memory
   * cannot say — not kept, its kept expiry passed (another instance may have moved it), not a
   * token at all, not the given owner's (Basic), or the writes are behind (a check then waits for
   * them) — and `verify` decides. Synchronous, for the forward-auth fast path (auth/verify.fast-path.ts).
   */
  function verifyKept(token: string, address: string | null = null, owner?: string): VerifiedPat | undefined {
    if (!isWellFormedPat(token) || usage.behind()) return undefined;
    const now = clock.now();
    const key = patKey(token);
    // A miss here is counted by `verify`, which the caller asks next.
    const row = cache.get(key, false);
    if (!row || (owner !== undefined && row.login !== owner)) return undefined;
    readAhead(key);
    return accept(key, row, now, address)?.verified;
  }

  /** A read or kept row's answer now, its use noted; undefined once it has expired. */
  function accept(key: string, row: KeptRow, now: number, address: string | null): { verified: VerifiedPat; waiting?: Promise<void> } | undefined {
    const expiry = expiryOf(row);
    if (now >= expiry) return undefined;
    const hard = row.expires_ms ?? Infinity;
    const next = row.window_seconds === null ? expiry : Math.max(expiry, Math.min(now + row.window_seconds * 1000, hard));
    let waiting: Promise<void> | undefined;
    if (useToWrite(row, now, address)) {
      // Noted on the kept token, so that the next checks know what is being written.
      cache.noteUse(key, now, address);
      // Only a slide is the use's to tell: a fixed expiry is the row's (which an operator may shorten).
      // A kept answer is not moved: when its read expiry passes, the row is read again.
      waiting = usage.record(row.id, { at: now, from: address, expiry: row.window_seconds === null ? 0 : next });
    }
    const verified: VerifiedPat = {
      tokenId: row.id,
      userId: row.user_id,
      login: row.login,
      roles: row.roles,
      grants: row.grants,
      createdAt: new Date(row.created_ms),
      expiresAt: new Date(next),
      hardExpiresAt: row.expires_ms === null ? null : new Date(row.expires_ms),
    };
    return { verified, waiting };
  }

  /**
   * After a change that makes tokens refused (a revocation, an owner locked or deleted): waits until
   * every instance refuses them, so that "done" means done everywhere (pat-cache.ts).
   */
  const settle = () => new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS));

  /** Starts the change feed, and with it the use of kept answers (the server; a command keeps none). */
  const watch = () => cache.start();

  /** Stops the feed, and writes the uses not yet written (graceful shutdown). */
  async function close(): Promise<void> {
    cache.stop();
    clearTimeout(gathering);
    await usage.flush();
  }

  return { mint, list, revoke, verify, verifyKept, settle, watch, close, cacheStats: cache.stats };
}

export type PatService = ReturnType<typeof createPatService>;
