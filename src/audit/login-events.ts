import type { Metrics } from '../metrics/metrics.ts';
import type { AuditService } from './audit.service.ts';

export interface LoginEvent {
  ok: boolean;
  userId?: string;
  login: string;
  ip: string;
  lockedNow?: boolean;
}

/** Turns a sign-in attempt into audit events and metrics. */
export function loginRecorder(deps: { audit: AuditService; metrics: Metrics }) {
  return (e: LoginEvent): void => {
    // The login typed is kept only when it names an existing account: a password typed into the
    // login field by mistake must not land in the audit trail.
    const actor = { id: e.userId ?? null, login: e.userId ? e.login : null };
    if (!e.ok) deps.metrics.loginFailures.inc({ reason: 'credentials' });
    // Queued: a busy server writes the sign-ins of a tenth of a second in one statement.
    deps.audit.recordSoon({ action: e.ok ? 'login.success' : 'login.failure', outcome: e.ok ? 'success' : 'failure', actor, address: e.ip });
    if (e.lockedNow) deps.audit.recordSoon({ action: 'account.locked', actor, address: e.ip, target: e.userId ? { type: 'user', id: e.userId } : null });
  };
}
