import http from 'node:http';
import t, { type Test } from 'tap';
import type { DbKind } from '../helpers/database.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { basic, bearer, makeUser, mintFor } from '../helpers/pat.ts';

// The forward-auth check's common case is answered before Fastify (src/auth/verify.fast-path.ts).
// Its answers must be the route's own, and everything it does not fully understand must reach the
// route. Which one answered is told by an onRequest hook: the fast path runs none.

const NODE = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';

async function setup(t: Test, kind: DbKind, config?: Record<string, unknown>) {
  const built = await buildTestApp(t, { kind, listen: false, config });
  let routed = 0;
  built.app.addHook('onRequest', (_req, _reply, done) => {
    routed++;
    done();
  });
  const { port } = new URL(built.url);
  await built.app.listen({ host: '127.0.0.1', port: Number(port) });
  /** A check, and whether Fastify's route answered it. */
  const check = async (headers: Record<string, string>, query = '', method = 'GET') => {
    const before = routed;
    // node:http, not fetch: its rawHeaders keep the order the headers were written in.
    const { status, rawHeaders, body } = await new Promise<{ status: number; rawHeaders: string[]; body: string }>((resolve, reject) => {
      const req = http.request(`${built.url}/a/auth/verify${query}`, { method, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    const head: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() !== 'date') head.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
    return { status, head, body, routed: routed > before };
  };
  /**
   * Checks until one is answered before Fastify, at most 2 s: memory answers only while the change
   * feed is read in time, which a loaded machine may delay for a moment (the route then answers).
   */
  const fastAnswer = async (headers: Record<string, string>) => {
    for (const began = Date.now(); ; ) {
      const r = await check(headers);
      if ((r.status === 200 && !r.routed) || Date.now() - began > 2000) return r;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const warm = async (headers: Record<string, string>) => !(await fastAnswer(headers)).routed;
  return { ...built, check, warm, fastAnswer };
}

for (const kind of dbKinds()) {
  t.test(`a kept token is answered before Fastify, exactly as the route answers [${kind}]`, async (t) => {
    const { ctx, check, warm, fastAnswer, url } = await setup(t, kind);
    const alice = await makeUser(ctx, 'alice');
    await makeUser(ctx, 'bob');
    const fixed = (await mintFor(ctx, alice.id, { expire: '1h' })).token;
    const scoped = (await mintFor(ctx, alice.id, { auto: '600', scopes: [`node:${NODE}:rw`] })).token;

    const first = await check(bearer(fixed));
    t.equal(first.status, 200);
    t.ok(first.routed, 'a token seen for the first time: the route, which reads it');
    t.ok(await warm(bearer(fixed)), 'then from memory, before Fastify');
    t.ok(await warm(bearer(scoped)));

    for (const [what, headers] of [
      ['Bearer', bearer(fixed)],
      ['Bearer, node-scoped', bearer(scoped)],
      ['Basic login:PAT', basic('alice', fixed)],
    ] as const) {
      const fast = await fastAnswer(headers);
      // A query string takes the route (the fast path only takes the bare path); this one is ignored.
      const routed = await check(headers, '?_=1');
      t.notOk(fast.routed, `${what}: answered before Fastify`);
      t.ok(routed.routed, `${what}: the comparison went through the route`);
      t.same(fast, { ...routed, routed: false }, `${what}: the same status, headers in the same order, and body`);
    }

    // What the fast path does not fully understand goes to the route, which decides.
    const wrongOwner = await check(basic('bob', fixed));
    t.same([wrongOwner.status, wrongOwner.routed], [401, true], 'Basic with a login that does not own the token');
    const node = await check({ ...bearer(scoped), 'x-auth-node': NODE, 'x-auth-permission': 'r' });
    t.same([node.status, node.routed], [200, true], 'a node asked for');
    const denied = await check({ ...bearer(scoped), 'x-auth-node': NODE.replace('0', '1'), 'x-auth-permission': 'r' });
    t.same([denied.status, denied.routed], [403, true], 'a node outside the scopes');
    const head = await check(bearer(fixed), '', 'HEAD');
    t.same([head.status, head.routed], [200, true], 'HEAD');
    const none = await check({});
    t.same([none.status, none.routed], [401, true], 'no credentials');
    const malformed = await check({ authorization: 'Bearer cap_nope' });
    t.same([malformed.status, malformed.routed], [401, true], 'not a token');

    // A revoked token, kept a moment ago, is refused at once (SPEC §6.3), by the route.
    const [view] = (await ctx.pats.list(alice.id)).filter((v) => v.autoRefreshSeconds === null);
    t.equal(await ctx.pats.revoke(view!.id), 'revoked');
    const revoked = await check(bearer(fixed));
    t.same([revoked.status, revoked.routed], [401, true], 'revoked: refused by the route');

    // The fast path's answers are counted with the route's.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const ok = Number(/cells_auth_http_requests_total\{method="GET",route="\/a\/auth\/verify",status="200"\} (\d+)/.exec(metrics)?.[1]);
    t.ok(ok >= 10, `every good check counted (${ok})`);
  });

  t.test(`a use answered before Fastify slides the token and is recorded, from the address Fastify would see [${kind}]`, async (t) => {
    // Behind a trusted proxy, the client's address is the one it forwards (as Fastify's trustProxy settles it).
    const { ctx, check, warm } = await setup(t, kind, { trustedProxies: ['127.0.0.1'] });
    const alice = await makeUser(ctx, 'alice');
    const { token } = await mintFor(ctx, alice.id, { auto: '600' });
    t.ok(await warm(bearer(token)));
    const minted = (await ctx.pats.list(alice.id))[0]!;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const r = await check({ ...bearer(token), 'x-forwarded-for': '203.0.113.9' });
    t.same([r.status, r.routed], [200, false]);
    const used = (await ctx.pats.list(alice.id))[0]!;
    t.equal(used.lastUsedFrom, '203.0.113.9', 'the forwarded address');
    t.ok(Date.parse(used.currentExpiry) > Date.parse(minted.currentExpiry), 'the expiry moved');
  });
}
