import t from 'tap';
import { createOidcModelsRepository, type UpsertModel } from '../../src/oidc/oidc-models.repository.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';

// A request's writes in one statement (request-store.ts): removals and upserts of distinct keys,
// any count of each (more than one statement holds are split), existing rows updated in place.
const row = (model: string, id: string, payload: Record<string, unknown> = {}): UpsertModel => ({
  model,
  id,
  payloadJson: JSON.stringify(payload),
  grantId: 'g1',
  uid: null,
  userCode: null,
  expiresAt: new Date(Date.now() + 3600_000),
});

for (const kind of dbKinds()) {
  t.test(`writeMany removes and upserts in one go, in any numbers [${kind}]`, async (t) => {
    const { ctx } = await buildTestApp(t, { kind, listen: false });
    const repo = createOidcModelsRepository(ctx.db.db);
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const stored = async () =>
      (await ctx.db.db.selectFrom('oidc_models').select(['model', 'id', 'payload']).orderBy('model').orderBy('id').execute()).map((r) => `${r.model}:${r.id}:${JSON.stringify(r.payload)}`);

    await repo.writeMany(ids('s', 11).map((id) => row('Session', id)), []);
    t.equal((await stored()).length, 11, 'upserts only, more than one statement holds');
    await repo.writeMany([row('Session', 's0', { v: 2 }), row('Grant', 'g')], ids('s', 11).slice(1).map((id) => ({ model: 'Session', id })));
    t.same(await stored(), ['Grant:g:{}', 'Session:s0:{"v":2}'], 'removals and upserts together; an existing row is updated');
    await repo.writeMany([], [{ model: 'Grant', id: 'g' }, { model: 'Session', id: 'missing' }]);
    t.same(await stored(), ['Session:s0:{"v":2}'], 'removals only; a missing key is no error');
  });
}
