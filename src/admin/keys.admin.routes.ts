import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditService } from '../audit/audit.service.ts';
import { recordRequest } from '../audit/request-audit.ts';
import { adminErrors, timestamp } from '../errors/error.schemas.ts';
import type { KeysService } from '../oidc/keys.service.ts';
import type { OidcRuntime } from '../oidc/oidc.runtime.ts';
import { bearer } from '../openapi/security.ts';

// `/a/admin/keys` (SPEC §5). Only public facts about the keys: never key material.

const keySummary = z
  .object({
    kid: z.string(),
    alg: z.string(),
    state: z.enum(['next', 'active', 'retired']).meta({ description: 'next: published, not yet signing; active: signs; retired: published until publishUntil' }),
    createdAt: timestamp,
    activatedAt: timestamp.nullable(),
    retiredAt: timestamp.nullable(),
    publishUntil: timestamp.nullable().meta({ description: 'a retired key stays in the JWKS until the longest token it signed has expired' }),
  })
  .meta({ id: 'SigningKey' });

const keyList = z.object({ keys: z.array(keySummary) });

const rotation = z.object({
  activated: z.string().meta({ description: 'the kid that signs from now on (the previously published next key)' }),
  retired: z.string().nullable().meta({ description: 'the kid that signed until now; still published' }),
  next: z.string().meta({ description: 'the new next key, published before it ever signs' }),
});

const doc = (operationId: string, summary: string) => ({ tags: ['keys'], operationId, summary, security: bearer() });

export async function keysAdminRoutes(app: FastifyInstance, deps: { keys: KeysService; oidc: Pick<OidcRuntime, 'reload'>; audit: AuditService }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/keys', { schema: { ...doc('listKeys', 'List the signing keys and their state'), response: { 200: keyList.describe('every key, newest first'), ...adminErrors([]) } } }, async () => ({
    keys: await deps.keys.list(),
  }));

  r.post(
    '/keys/rotate',
    {
      schema: {
        ...doc('rotateKeys', 'Rotate the signing keys: the published next key signs, the current one is retired but stays published'),
        response: { 200: rotation.describe('rotated; this instance signs with the new key at once, the others within their poll interval'), ...adminErrors([]) },
      },
    },
    async (request) => {
      const result = await deps.keys.rotate();
      await recordRequest(deps.audit, request, { action: 'keys.rotated', target: { type: 'signing_key', id: result.activated }, details: { ...result } });
      // Every instance picks the change up by polling; this one answers with it at once. The rotation
      // is committed by now, so a failure here is only logged: answering an error would invite a
      // second rotation, and the poll will load the keys anyway.
      await deps.oidc.reload().catch((err) => request.log.warn({ err }, 'keys rotated; the provider will reload them on its next poll'));
      return result;
    },
  );
}
