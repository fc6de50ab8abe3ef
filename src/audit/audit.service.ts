import type { Logger } from 'pino';
import type { Clock } from '../util/clock.ts';
import type { AuditFilter, AuditInsert, AuditRepository } from './audit.repository.ts';

// What gets audited. A closed list, so that the trail can be filtered reliably.
export const AUDIT_ACTIONS = [
  'login.success',
  'login.failure',
  'account.locked',
  'token.minted',
  'token.revoked',
  'user.created',
  'user.updated',
  'user.locked',
  'user.unlocked',
  'user.password_set',
  'user.deleted',
  'client.created',
  'client.updated',
  'client.secret_rotated',
  'client.deleted',
  'keys.rotated',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEventInput {
  action: AuditAction;
  outcome?: 'success' | 'failure';
  actor?: { id?: string | null; login?: string | null } | null;
  address?: string | null;
  target?: { type: string; id: string } | null;
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  id: string;
  at: string;
  action: string;
  outcome: 'success' | 'failure';
  actor: { id: string | null; login: string | null };
  address: string | null;
  target: { type: string; id: string } | null;
  details: Record<string, unknown>;
}

// Keys whose values are never written, whatever a caller passes in details.
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|code_verifier|^code$/i;

function scrub(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (SECRET_KEY.test(k)) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? scrub(v as Record<string, unknown>) : v;
  }
  return out;
}

export interface AuditBatching {
  /** A queued event is written within this many milliseconds… */
  delayMs: number;
  /** …or as soon as this many are queued. */
  maxEvents: number;
}

export function createAuditService(deps: { repo: AuditRepository; clock: Clock; log: Logger; batching?: AuditBatching }) {
  const { repo, clock, log } = deps;
  const batching = deps.batching ?? { delayMs: 100, maxEvents: 100 };

  function toInsert(e: AuditEventInput): AuditInsert {
    return {
      at: new Date(clock.now()),
      action: e.action,
      outcome: e.outcome ?? 'success',
      actorId: e.actor?.id ?? null,
      actorLogin: e.actor?.login ?? null,
      address: e.address ?? null,
      targetType: e.target?.type ?? null,
      targetId: e.target?.id ?? null,
      details: scrub(e.details ?? {}),
    };
  }

  /**
   * Writes one event. A failure to write is logged and does not fail the action that caused it
   * (the action already happened); the log line carries the event instead.
   */
  async function record(e: AuditEventInput): Promise<void> {
    const event = toInsert(e);
    try {
      await repo.insert(event);
    } catch (err) {
      log.error({ err, audit: event }, 'could not write an audit event');
    }
  }

  // Events of a hot path whose caller does not wait for them (every sign-in): queued and written
  // together, one statement for all that arrive within `delayMs`, instead of one each.
  let queue: AuditInsert[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  /** Writes what is queued; resolves once it (and every earlier batch) is written or logged. */
  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length) {
      const events = queue;
      queue = [];
      writing = writing.then(() =>
        repo.insertMany(events).then(
          () => {},
          (err) => log.error({ err, audit: events }, 'could not write audit events'),
        ),
      );
    }
    return writing;
  }

  /** Queues one event, written within `delayMs`, by `flush()`, or when the context closes. */
  function recordSoon(e: AuditEventInput): void {
    queue.push(toInsert(e));
    if (queue.length >= batching.maxEvents) void flush();
    else if (!timer) {
      timer = setTimeout(() => void flush(), batching.delayMs);
      // Not what keeps a process alive: a clean shutdown flushes (context.close).
      timer.unref();
    }
  }

  async function list(filter: AuditFilter): Promise<AuditEvent[]> {
    // This instance's queued events are part of the trail it shows.
    await flush();
    const rows = await repo.list(filter);
    return rows.map((r) => ({
      id: String(r.id),
      at: r.at.toISOString(),
      action: r.action,
      outcome: r.outcome,
      actor: { id: r.actor_id, login: r.actor_login },
      address: r.address,
      target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
      details: r.details,
    }));
  }

  return { record, recordSoon, flush, list };
}

export type AuditService = ReturnType<typeof createAuditService>;
