import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditService } from '../audit/audit.service.ts';
import { adminErrors, timestamp } from '../errors/error.schemas.ts';
import { text } from '../http/text.schemas.ts';
import { bearer } from '../openapi/security.ts';

// `/a/admin/audit`: the trail, newest first, filtered and paged by event id (keyset: stable while
// new events arrive).

const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const auditQuery = z.strictObject({
  action: z.enum(AUDIT_ACTIONS).optional(),
  actor: text(256).min(1).optional().meta({ description: 'the login of the account that acted' }),
  actorId: z.uuid().optional().meta({ description: 'the id of the account that acted' }),
  target: text(256).min(1).optional().meta({ description: 'the id of what was acted on (a user id, a client id, a token id, a key id)' }),
  outcome: z.enum(['success', 'failure']).optional(),
  since: instant.optional().meta({ description: 'events at or after this instant' }),
  until: instant.optional().meta({ description: 'events before this instant' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().regex(/^[1-9][0-9]{0,17}$/, 'not a cursor this API returned').optional().meta({ description: 'nextCursor of the previous page' }),
});

const auditEvent = z
  .object({
    id: z.string(),
    at: timestamp,
    action: z.string(),
    outcome: z.enum(['success', 'failure']),
    actor: z.object({ id: z.string().nullable(), login: z.string().nullable() }),
    address: z.string().nullable(),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEvent' });

const auditPage = z.object({
  events: z.array(auditEvent),
  nextCursor: z.string().nullable().meta({ description: 'null on the last page' }),
});

export async function auditAdminRoutes(app: FastifyInstance, deps: { audit: AuditService }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        operationId: 'listAuditEvents',
        summary: 'List audit events, newest first',
        security: bearer(),
        querystring: auditQuery,
        response: { 200: auditPage.describe('a page of events, newest first'), ...adminErrors([400]) },
      },
    },
    async (request) => {
      const q = request.query;
      // One more than asked tells whether another page follows, without a count.
      const events = await deps.audit.list({
        action: q.action,
        actorLogin: q.actor,
        actorId: q.actorId,
        targetId: q.target,
        outcome: q.outcome,
        since: q.since,
        until: q.until,
        before: q.cursor,
        limit: q.limit + 1,
      });
      const page = events.slice(0, q.limit);
      return { events: page, nextCursor: events.length > q.limit ? (page.at(-1)?.id ?? null) : null };
    },
  );
}
