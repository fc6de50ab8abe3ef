import t from 'tap';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ModelKey, UpsertModel } from '../../src/oidc/oidc-models.repository.ts';
import { StoreUnavailableError } from '../../src/oidc/adapter.ts';
import { createRequestStore } from '../../src/oidc/request-store.ts';

const row = (model: string, id: string): UpsertModel => ({ model, id, payloadJson: '{}', grantId: null, uid: null, userCode: null, expiresAt: null });

function fakeRepo(fail?: () => unknown, wins = () => true) {
  const sent: string[] = [];
  const listed = (upserts: UpsertModel[], removals: ModelKey[]) => [...removals.map((r) => `-${r.model}:${r.id}`), ...upserts.map((u) => `+${u.model}:${u.id}`)].join(' ');
  const maybeFail = async () => {
    const err = fail?.();
    if (err) throw err;
  };
  return {
    sent,
    repo: {
      upsert: async (m: UpsertModel) => void (await maybeFail(), sent.push(`upsert ${m.model}:${m.id}`)),
      destroy: async (model: string, id: string) => void (await maybeFail(), sent.push(`remove ${model}:${id}`)),
      writeMany: async (upserts: UpsertModel[], removals: ModelKey[]) => void (await maybeFail(), sent.push(`together ${listed(upserts, removals)}`)),
      consume: async (model: string, id: string) => (await maybeFail(), sent.push(`consume ${model}:${id}`), wins()),
      // What the statement does: the writes only if the mark won.
      consumeAndWrite: async (c: ModelKey, upserts: UpsertModel[], removals: ModelKey[]) => {
        await maybeFail();
        const won = wins();
        sent.push(`consume ${c.model}:${c.id}${won ? ` then ${listed(upserts, removals)}` : ', lost'}`);
        return won;
      },
    },
  };
}

const ctx = {} as KoaContextWithOIDC;

/** What the middleware uses of Koa's context to answer an error in place of the prepared response. */
function koaContext(headers: Record<string, string>) {
  const c = {
    status: 200,
    body: { access_token: 'prepared' } as unknown,
    response: { headers },
    remove: (name: string) => void delete headers[name],
    set: (name: string, value: string) => void (headers[name] = value),
  };
  return c;
}

t.test('outside a provider request every write goes out at once', async (t) => {
  const { repo } = fakeRepo();
  const writes = createRequestStore({ repo });
  t.equal(await writes.upsert(row('Session', 's')), false, 'the caller writes it');
  t.equal(writes.remove('Session', 's'), false);
  await writes.settle();
});

t.test('a request\'s writes are held and sent as one statement before it ends', async (t) => {
  const { repo, sent } = fakeRepo();
  const writes = createRequestStore({ repo });
  await writes.middleware(ctx, async () => {
    t.equal(writes.remove('Interaction', 'i'), true);
    t.equal(await writes.upsert(row('Grant', 'g')), true);
    t.equal(await writes.upsert(row('AuthorizationCode', 'c')), true);
    t.equal(await writes.upsert(row('Session', 's')), true);
    t.same(sent, [], 'nothing sent while the request runs');
  });
  t.same(sent, ['together -Interaction:i +Grant:g +AuthorizationCode:c +Session:s'], 'one statement, before the middleware returns');
});

t.test('reads see the request\'s own writes; one key removed then written keeps that order', async (t) => {
  const { repo, sent } = fakeRepo();
  const writes = createRequestStore({ repo });
  await writes.middleware(ctx, async () => {
    await writes.upsert(row('AccessToken', 'a'));
    await writes.settle();
    t.same(sent, ['upsert AccessToken:a'], 'a read first sends what is pending');
    writes.remove('Session', 's');
    await writes.upsert(row('Session', 's'));
    t.same(sent, ['upsert AccessToken:a', 'remove Session:s'], 'the removal went out before the new row is held');
    await writes.upsert(row('Grant', 'g'));
    writes.remove('Grant', 'g');
  });
  t.same(sent, ['upsert AccessToken:a', 'remove Session:s', 'together -Grant:g +Session:s'], 'written then removed: only the removal');
  t.equal(await writes.upsert(row('Late', 'l')), false, 'after the request, writes go out at once again');
});

t.test('a store failure at the end of a request is a 503, not a response without its rows', async (t) => {
  const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const { repo } = fakeRepo(() => down);
  const writes = createRequestStore({ repo });
  await t.rejects(writes.run(async () => void (await writes.upsert(row('Session', 's')))), StoreUnavailableError, 'run() throws it');
  const koa = koaContext({ 'set-cookie': 'session=1', 'access-control-allow-origin': 'http://localhost:3636', 'content-type': 'application/json' });
  await writes.middleware(koa as unknown as KoaContextWithOIDC, async () => void (await writes.upsert(row('Session', 's'))));
  t.equal(koa.status, 503);
  t.match(koa.body, { error: 'temporarily_unavailable' }, 'an RFC 6749 error in place of the prepared response');
  t.same(koa.response.headers, { 'access-control-allow-origin': 'http://localhost:3636', 'cache-control': 'no-store' }, 'its cookies dropped, CORS kept');
});

t.test('a redemption is held and sent with the writes, which go only if it won', async (t) => {
  let win = true;
  const { repo, sent } = fakeRepo(undefined, () => win);
  const writes = createRequestStore({ repo });
  const redeem = async () => {
    t.equal(await writes.consume('RefreshToken', 'r1', new Date(0)), true, 'held');
    await writes.upsert(row('RefreshToken', 'r2'));
    await writes.upsert(row('AccessToken', 'a'));
    t.same(sent.length, n, 'nothing sent while the request runs');
  };
  let n = 0;
  const koa = koaContext({ 'content-type': 'application/json' });
  await writes.middleware(koa as unknown as KoaContextWithOIDC, redeem);
  t.same(sent, ['consume RefreshToken:r1 then +RefreshToken:r2 +AccessToken:a'], 'one statement');
  t.equal(koa.status, 200, 'the prepared response goes');

  win = false;
  n = sent.length;
  const lost = koaContext({ 'content-type': 'application/json' });
  await writes.middleware(lost as unknown as KoaContextWithOIDC, redeem);
  t.same(sent.slice(n), ['consume RefreshToken:r1, lost'], 'nothing written');
  t.equal(lost.status, 400);
  t.match(lost.body, { error: 'invalid_grant' }, 'the request is refused as a reused grant');
  t.equal(await writes.consume('RefreshToken', 'r1', new Date(0)), false, 'outside a request the caller consumes at once');
});

t.test('a redemption of a key the request also writes goes out first, alone; a read sends it', async (t) => {
  const { repo, sent } = fakeRepo();
  const writes = createRequestStore({ repo });
  await writes.run(async () => {
    await writes.consume('AuthorizationCode', 'c', new Date(0));
    writes.remove('AuthorizationCode', 'c');
  });
  t.same(sent, ['consume AuthorizationCode:c', 'remove AuthorizationCode:c'], 'one statement cannot both mark and write a row');
  sent.length = 0;
  await writes.run(async () => {
    await writes.consume('AuthorizationCode', 'd', new Date(0));
    await writes.settle();
    t.same(sent, ['consume AuthorizationCode:d'], 'a read first sends the held redemption');
  });
});

t.test('a grant read with a token is handed to the request\'s own lookup of it, once, unless written or revoked since', async (t) => {
  const { repo } = fakeRepo();
  const store = createRequestStore({ repo });
  const grant = { payload: { jti: 'g' }, consumed_at: null };
  store.keepGrant('g', grant);
  t.same(store.takeGrant('g'), { found: false }, 'outside a request nothing is kept');
  await store.middleware(ctx, async () => {
    store.keepGrant('g', grant);
    store.keepGrant('gone', undefined);
    t.same(store.takeGrant('g'), { found: true, row: grant });
    t.same(store.takeGrant('g'), { found: false }, 'once');
    t.same(store.takeGrant('gone'), { found: true, row: undefined }, 'a grant that was not there is not there');
    store.keepGrant('g', grant);
    await store.upsert(row('Grant', 'g'));
    t.same(store.takeGrant('g'), { found: false }, 'written since: read again');
    store.keepGrant('g', grant);
    store.remove('Grant', 'g');
    t.same(store.takeGrant('g'), { found: false }, 'removed since: read again');
    store.keepGrant('g', grant);
    store.forgetGrants();
    t.same(store.takeGrant('g'), { found: false }, 'a revocation drops them all');
    store.keepGrant('g', grant);
  });
  await store.middleware(ctx, async () => {
    t.same(store.takeGrant('g'), { found: false }, 'nothing passes from one request to the next');
  });
});
