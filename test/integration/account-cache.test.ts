import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import t from 'tap';
import { ACCOUNT_CACHE_MS } from '../../src/accounts/account-cache.ts';
import { call, rootAdmin } from '../helpers/admin.ts';
import { dbKinds } from '../helpers/database.ts';
import { browse, follow, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { openLoginForm, type LoginForm } from '../helpers/login-page.ts';

// The provider's account lookups after the login form are answered from a second-long cache
// (src/accounts/account-cache.ts). What must hold: a change made through this instance is seen by
// the very next step of a sign-in already under way; one made elsewhere within the second.

const client = { clientId: 'cells-sync', redirectUri: 'http://localhost:3636', scope: 'openid email profile pydio offline' };
const GOOD = 'correct horse battery';

/** Posts the login form and stops before the provider resumes the sign-in (the cache is primed now). */
async function passLoginForm(url: string, form: LoginForm): Promise<string> {
  const res = await browse(form.jar, form.action, { method: 'POST', body: new URLSearchParams({ login: 'alice', password: GOOD, csrf: form.csrf }) });
  const resume = res.headers.get('location');
  if (res.status !== 303 && res.status !== 302) throw new Error(`the login form was refused (${res.status})`);
  return new URL(resume!, url).toString();
}

async function resume(url: string, form: LoginForm, at: string): Promise<Response | URL> {
  return follow(form.jar, url, await browse(form.jar, at));
}

for (const kind of dbKinds()) {
  t.test(`changes through this instance reach a sign-in under way at once [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    const admin = await rootAdmin(ctx);
    await ctx.users.create({ login: 'alice', password: GOOD });

    // Locked between the password check and the code: no code.
    const form = await openLoginForm(url, client);
    const at = await passLoginForm(url, form);
    t.equal((await call(url, 'POST', '/a/admin/users/alice/lock', admin.auth)).status, 200);
    const refused = await resume(url, form, at);
    t.notOk(refused instanceof URL && refused.searchParams.get('code'), 'the locked account gets no code');
    t.equal((await call(url, 'POST', '/a/admin/users/alice/unlock', admin.auth)).status, 200);

    // Unlocked: the next sign-in goes through (the unlock was not hidden behind the cached lock).
    const again = await openLoginForm(url, client);
    const back = await resume(url, again, await passLoginForm(url, again));
    t.ok(back instanceof URL && back.searchParams.get('code'), 'unlocked, the owner signs in');

    // A role given between the code and the token request is in the ID token.
    const third = await openLoginForm(url, client);
    const callback = await resume(url, third, await passLoginForm(url, third));
    if (!(callback instanceof URL)) throw new Error('no callback');
    t.equal((await call(url, 'PATCH', '/a/admin/users/alice', admin.auth, { roles: ['admin'] })).status, 200);
    const tokens = await tokenRequest(url, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: third.verifier,
    });
    t.equal(tokens.status, 200);
    t.same(decodeJwt(String(tokens.body.id_token)).roles, ['admin'], 'the new role is in the ID token');
  });

  t.test(`a change made elsewhere is seen within ${ACCOUNT_CACHE_MS} ms [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: GOOD });
    const form = await openLoginForm(url, client);
    const at = await passLoginForm(url, form);
    // As another instance or the command line would: straight to the database, nothing told here.
    await sql`update users set locked = true where login = 'alice'`.execute(ctx.db.db);
    await sleep(ACCOUNT_CACHE_MS + 50);
    const refused = await resume(url, form, at);
    t.notOk(refused instanceof URL && refused.searchParams.get('code'), 'the locked account gets no code');
  });
}
