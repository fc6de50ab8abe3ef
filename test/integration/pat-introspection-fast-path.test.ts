import net from 'node:net';
import { sql } from 'kysely';
import t from 'tap';
import type { AppContext } from '../../src/context.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, makeUser, mintFor } from '../helpers/pat.ts';
import { countProviderRequests } from '../helpers/provider-requests.ts';

// PAT introspection is answered before the provider in the common case (oidc/introspection.fast-path.ts)
// and by the provider otherwise. Both must say the same thing; the requests handed over must reach the
// provider with their body intact (it was peeked at, then put back).

const SECRET = 'a-long-resource-server-secret';

const countHandedOver = (ctx: AppContext) => countProviderRequests(ctx, '/oauth2/introspect');

async function post(url: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`${url}/oidc/oauth2/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as Record<string, unknown> };
}

const basicOf = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

for (const kind of dbKinds()) {
  t.test(`the common case is answered before the provider, the rest by it, alike [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const handedOver = countHandedOver(ctx);
    const alice = await makeUser(ctx, 'alice');
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    const { token } = await mintFor(ctx, alice.id, { auto: '600' });

    const fast = await post(url, basicOf('files-api', SECRET), new URLSearchParams({ token, token_type_hint: 'access_token' }).toString());
    t.equal(fast.status, 200);
    t.equal(fast.cache, 'no-store');
    t.match(fast.body, { active: true, username: 'alice', token_kind: 'personal_access_token', iss: `${url}/oidc` });
    const inForm = await post(url, {}, new URLSearchParams({ token, client_id: 'files-api', client_secret: SECRET }).toString());
    t.match(inForm.body, { active: true, username: 'alice' }, 'the secret in the form (client_secret_post) too');
    t.equal(handedOver(), 0, 'neither reached the provider');

    // Form-encoded Basic credentials (RFC 6749 §2.3.1) are the provider's to decode: same answer.
    const encoded = await post(url, { authorization: `Basic ${Buffer.from(`files-api:${encodeURIComponent(SECRET).replaceAll('-', '%2D')}`).toString('base64')}` }, `token=${token}`);
    t.equal(encoded.status, 200);
    t.same({ ...encoded.body, exp: 0 }, { ...fast.body, exp: 0 }, 'the provider answers the same object');
    t.equal(handedOver(), 1, 'that one went to the provider, its body intact');

    const unknown = await post(url, basicOf('files-api', SECRET), `token=cap_${'0'.repeat(49)}`);
    t.same(unknown.body, { active: false });
    t.equal(handedOver(), 1, 'an unknown PAT is answered here too');

    const dupes = await post(url, basicOf('files-api', SECRET), `token=${token}&token=${token}`);
    t.equal(dupes.status, 400, 'a repeated parameter: the provider refuses it');
    const wrong = await post(url, basicOf('files-api', 'not-the-secret-at-all'), `token=${token}`);
    t.equal(wrong.status, 401);
    t.equal(wrong.body.error, 'invalid_client');
    const both = await post(url, basicOf('files-api', SECRET), new URLSearchParams({ token, client_secret: SECRET }).toString());
    t.equal(both.status, 400, 'two authentication mechanisms: the provider refuses them');
    t.equal(handedOver(), 4);

    // The provider's own tokens have their own answerer (introspection-fast-path.test.ts); one it
    // leaves to the provider (a structured token) reaches it with its body intact.
    const at = await accessTokenFor(url, 'alice');
    const viaForm = await post(url, {}, new URLSearchParams({ token: at, client_id: 'files-api', client_secret: SECRET }).toString());
    t.match(viaForm.body, { active: true, client_id: 'cells-sync' }, 'an access token is answered too');
    t.equal(handedOver(), 4);
    const jwt = await post(url, basicOf('files-api', SECRET), new URLSearchParams({ token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }).toString());
    t.equal(jwt.status, 400, 'a structured token: the provider read the body and refused it');
    t.match(jwt.body, { error: 'unsupported_token_type' });
    t.equal(handedOver(), 5);
  });

  t.test(`a store that fails: the provider is asked, and answers 503, never active:false [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const handedOver = countHandedOver(ctx);
    const alice = await makeUser(ctx, 'alice');
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    // A token never checked: nothing kept in memory, so the check must read the store.
    const { token } = await mintFor(ctx, alice.id, { expire: '1h' });
    await sql`alter table personal_access_tokens rename to personal_access_tokens_away`.execute(ctx.db.db);
    const down = await post(url, basicOf('files-api', SECRET), `token=${token}`);
    await sql`alter table personal_access_tokens_away rename to personal_access_tokens`.execute(ctx.db.db);
    t.equal(down.status, 503);
    t.equal(down.body.error, 'temporarily_unavailable');
    t.equal(handedOver(), 1, 'the provider answered it');
    const up = await post(url, basicOf('files-api', SECRET), `token=${token}`);
    t.equal(up.body.active, true, 'back once the store is');
    t.equal(handedOver(), 1, 'and answered first again');
  });

  t.test(`a body that arrives in pieces, after the headers, is read whole and put back [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const handedOver = countHandedOver(ctx);
    const alice = await makeUser(ctx, 'alice');
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    const { token } = await mintFor(ctx, alice.id, { expire: '1h' });
    const { port } = new URL(url);

    async function slowly(body: string, auth: string): Promise<string> {
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      const ended = new Promise((r) => socket.once('close', r));
      socket.write(`POST /oidc/oauth2/introspect HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\n${auth}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`);
      for (let i = 0; i < body.length; i += 20) {
        await new Promise((r) => setTimeout(r, 15));
        socket.write(body.slice(i, i + 20));
      }
      await ended;
      return answer;
    }
    const basic = `authorization: Basic ${Buffer.from(`files-api:${SECRET}`).toString('base64')}`;
    const fast = await slowly(`token=${token}`, basic);
    t.match(fast, /^HTTP\/1\.1 200/);
    t.match(fast, /"active":true/);
    t.equal(handedOver(), 0);
    // Handed over after the peek: the provider reads the same pieces, put back.
    const encodedBasic = `authorization: Basic ${Buffer.from(`files-api:${SECRET.replaceAll('-', '%2D')}`).toString('base64')}`;
    const provider = await slowly(`token=${token}`, encodedBasic);
    t.match(provider, /^HTTP\/1\.1 200/);
    t.match(provider, /"active":true/);
    t.equal(handedOver(), 1);
  });
}

for (const kind of dbKinds()) {
  t.test(`a client's authentication is kept only while the client is unchanged [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const handedOver = countHandedOver(ctx);
    const alice = await makeUser(ctx, 'alice');
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    const { token } = await mintFor(ctx, alice.id, { expire: '1h' });
    const ask = (secret: string) => post(url, basicOf('files-api', secret), `token=${token}`);

    t.equal((await ask(SECRET)).body.active, true);
    t.equal((await ask(SECRET)).body.active, true, 'the second time from what was kept');
    const wrong = await ask(`${SECRET}-not`);
    t.equal(wrong.status, 401, 'another secret is still checked');
    // The kept Basic header, with a client_id in the form naming another client: the provider's case.
    const handed = handedOver();
    const mismatch = await post(url, basicOf('files-api', SECRET), new URLSearchParams({ token, client_id: 'cells-sync' }).toString());
    t.equal(mismatch.status, 400, 'two different clients named: the provider refuses it');
    t.equal(handedOver(), handed + 1);
    const inForm = () => post(url, {}, new URLSearchParams({ token, client_id: 'files-api', client_secret: SECRET }).toString());
    t.equal((await inForm()).body.active, true, 'the secret in the form');
    t.equal((await inForm()).body.active, true, 'kept too');
    t.equal((await post(url, {}, new URLSearchParams({ token, client_id: 'files-api', client_secret: `${SECRET}-not` }).toString())).status, 401, 'another secret in the form is checked');
    t.equal(handedOver(), handed + 2);

    // A rotation on this instance: the old secret is refused at once, the new one taken.
    const { secret: rotated } = await ctx.clients.rotateSecret('files-api');
    t.equal((await ask(SECRET)).status, 401, 'the old secret, right after the rotation');
    t.equal((await ask(rotated!)).body.active, true, 'the new one');

    // A change made elsewhere (another instance, by hand): seen within the client cache's second.
    await sql`update clients set introspect = false, metadata = metadata || '{"introspect": false}'::jsonb where client_id = 'files-api'`.execute(ctx.db.db);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = handedOver();
    const refused = await ask(rotated!);
    t.not(refused.body.active, true, 'no longer allowed to introspect');
    t.equal(handedOver(), before + 1, 'the provider said so');

    await ctx.clients.remove('files-api');
    t.equal((await ask(rotated!)).status, 401, 'a removed client, at once');
  });

  t.test(`a PAT answered from memory is refused at once once revoked [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const handedOver = countHandedOver(ctx);
    const alice = await makeUser(ctx, 'alice');
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    const { token, pat } = await mintFor(ctx, alice.id, { auto: '600' });
    const ask = () => post(url, basicOf('files-api', SECRET), `token=${token}`);
    for (let i = 0; i < 3; i++) t.equal((await ask()).body.active, true, `asked ${i + 1}`);
    t.equal(await ctx.pats.revoke(pat.id), 'revoked');
    t.same((await ask()).body, { active: false }, 'revoked: inactive at once');
    t.equal(handedOver(), 0, 'all answered before the provider');
  });
}
