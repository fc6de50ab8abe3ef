import t from 'tap';
import { manualClock } from '../../src/util/clock.ts';
import { dbKinds } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

const redirectUri = 'http://localhost:3636';

async function tokensFor(url: string) {
  const { code, verifier } = await signIn(url, { clientId: 'cells-sync', redirectUri, login: 'dana', password: 'correct horse battery' });
  const res = await tokenRequest(url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
  return String(res.body.refresh_token);
}

const refresh = (url: string, token: string) => tokenRequest(url, { grant_type: 'refresh_token', refresh_token: token, client_id: 'cells-sync' });

for (const kind of dbKinds()) {
  t.test(`parallel refreshes of one token: one winner, the session survives [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'dana', password: 'correct horse battery' });
    const rt = await tokensFor(url);
    const results = await Promise.all(Array.from({ length: 6 }, () => refresh(url, rt)));
    const winners = results.filter((r) => r.status === 200);
    t.equal(winners.length, 1, 'exactly one refresh wins');
    t.ok(results.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant'), 'the others get invalid_grant');
    const next = await refresh(url, String(winners[0]!.body.refresh_token));
    t.equal(next.status, 200, 'the winner\'s new refresh token still works: the family was not revoked');
  });

  t.test(`reuse within the grace window keeps the family, after it revokes it [${kind}]`, async (t) => {
    const clock = manualClock();
    const { ctx, url } = await buildTestApp(t, { kind, clock, config: { refreshGraceSeconds: 5 } });
    await ctx.users.create({ login: 'dana', password: 'correct horse battery' });
    const rt1 = await tokensFor(url);
    const r2 = await refresh(url, rt1);
    t.equal(r2.status, 200);
    const rt2 = String(r2.body.refresh_token);

    clock.advance(2_000);
    const early = await refresh(url, rt1);
    t.equal(early.body.error, 'invalid_grant', 'a second use of a rotated token is refused');
    const r3 = await refresh(url, rt2);
    t.equal(r3.status, 200, 'inside the window the reuse did not revoke the family');
    const rt3 = String(r3.body.refresh_token);

    clock.advance(6_000);
    const late = await refresh(url, rt2);
    t.equal(late.body.error, 'invalid_grant', 'reuse after the window is refused');
    const r4 = await refresh(url, rt3);
    t.equal(r4.body.error, 'invalid_grant', 'and it revoked the whole family');
  });
}
