import type { FastifyRequest } from 'fastify';
import { principalOf } from '../auth/guards.ts';
import type { AuditEventInput, AuditService } from './audit.service.ts';

/**
 * Records a change made through a guarded API: who (the principal), from where (the client address
 * Fastify settled on with its trusted-proxy list), and with which credential, so that whatever a
 * leaked token did can be found by its id. Awaited by the routes: the trail is written before the
 * answer, and a write failure is logged by the service without failing the change.
 */
export function recordRequest(audit: AuditService, request: FastifyRequest, event: Omit<AuditEventInput, 'actor' | 'address'>): Promise<void> {
  const principal = principalOf(request);
  return audit.record({
    ...event,
    actor: { id: principal.userId, login: principal.login },
    address: request.ip,
    details: { ...event.details, credential: { type: principal.via, id: principal.tokenId ?? null } },
  });
}

/**
 * Records a change made with the command line on the server. There is no account behind it: the
 * operator is whoever runs the process, so the system user is kept as a detail, never as an actor
 * login (which names cells-auth accounts).
 */
export function recordCli(audit: AuditService, osUser: string | null, event: Omit<AuditEventInput, 'actor' | 'address'>): Promise<void> {
  return audit.record({ ...event, actor: null, address: null, details: { ...event.details, via: 'cli', osUser } });
}
