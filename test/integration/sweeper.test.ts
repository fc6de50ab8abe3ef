import t from 'tap';
import { createOidcModelsRepository } from '../../src/oidc/oidc-models.repository.ts';
import { createSweeper } from '../../src/oidc/sweeper.ts';
import { manualClock } from '../../src/util/clock.ts';
import { dbKinds } from '../helpers/database.ts';
import { signIn } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

for (const kind of dbKinds()) {
  t.test(`the sweeper deletes expired rows, and only those [${kind}]`, async (t) => {
    const clock = manualClock();
    const { ctx, url } = await buildTestApp(t, { kind, clock });
    await ctx.users.create({ login: 'alice', password: 'correct horse battery' });
    await signIn(url, { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', login: 'alice', password: 'correct horse battery' });
    const repo = createOidcModelsRepository(ctx.db.db);
    // A tiny batch, so that one sweep has to loop.
    const sweeper = createSweeper({ repo, clock, log: ctx.log, batch: 2 });
    const models = async () =>
      (await ctx.db.db.selectFrom('oidc_models').select(['model']).orderBy('model').execute()).map((r) => r.model);
    // A row without an expiry is never swept.
    await repo.upsert({ model: 'ReplayDetection', id: 'forever', payloadJson: '{}', grantId: null, uid: null, userCode: null, expiresAt: null });

    const before = await models();
    t.ok(before.includes('AuthorizationCode') && before.includes('Session') && before.includes('Grant'), `the sign-in left rows: ${before.join(', ')}`);
    t.equal(await sweeper.sweep(), 0, 'nothing has expired yet');
    t.same(await models(), before);

    clock.advance((ctx.config.ttl.authorizationCode + 1) * 1000);
    const codes = before.filter((m) => m === 'AuthorizationCode').length;
    const swept = await sweeper.sweep();
    t.ok(swept >= codes, `past the code lifetime: the code went (${swept} rows)`);
    const middle = await models();
    t.notOk(middle.includes('AuthorizationCode'));
    t.ok(middle.includes('Session') && middle.includes('Grant'), 'the session and the grant live on');

    clock.advance((Math.max(ctx.config.ttl.session, ctx.config.ttl.refreshToken) + 1) * 1000);
    t.ok((await sweeper.sweep()) >= 2, 'past every lifetime: everything with an expiry goes, in several batches');
    t.same(await models(), ['ReplayDetection'], 'only the row without an expiry is left');
  });
}
