import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { authorizeUrl, browse, CookieJar, follow, signIn, type AuthorizeOptions } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';

const GOOD = 'correct horse battery';
const sync: AuthorizeOptions = { clientId: 'cells-sync', redirectUri: 'http://localhost:3640' };

/** Where an authorization request in this browser ends: back at the client (a URL) or on one of our pages. */
async function authorize(base: string, jar: CookieJar, extra: Record<string, string> = {}): Promise<{ url?: URL; status?: number; html?: string; state: string }> {
  const { url, state } = authorizeUrl(base, { ...sync, extra });
  const step = await follow(jar, base, await browse(jar, url));
  if (step instanceof URL) return { url: step, state };
  return { status: step.status, html: await step.text(), state };
}

const isLoginForm = (html?: string) => /<form method="post" action="\/interaction\/[^"]+\/login"/.test(html ?? '');

/** Waits until the clock's second has changed, so that `max_age=0` sees an older authentication. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 50));

for (const kind of dbKinds()) {
  t.test(`an existing session signs in silently; prompt and max_age are honoured [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: GOOD });

    const stranger = await authorize(url, new CookieJar(), { prompt: 'none' });
    t.equal(stranger.url?.origin + stranger.url!.pathname, `${sync.redirectUri}/`, 'prompt=none without a session goes back to the client');
    t.equal(stranger.url?.searchParams.get('error'), 'login_required');
    t.equal(stranger.url?.searchParams.get('state'), stranger.state, 'with the state');
    t.notOk(stranger.url?.searchParams.get('code'));

    const { jar } = await signIn(url, { ...sync, login: 'alice', password: GOOD });

    const silent = await authorize(url, jar);
    t.ok(silent.url?.searchParams.get('code'), 'a second authorization in the same browser: a code, no form');
    t.equal(silent.url?.searchParams.get('state'), silent.state);

    const none = await authorize(url, jar, { prompt: 'none' });
    t.ok(none.url?.searchParams.get('code'), 'prompt=none with a session succeeds silently');

    const fresh = await authorize(url, jar, { max_age: '3600' });
    t.ok(fresh.url?.searchParams.get('code'), 'a recent enough sign-in satisfies max_age');

    const forced = await authorize(url, jar, { prompt: 'login' });
    t.equal(forced.status, 200);
    t.ok(isLoginForm(forced.html), 'prompt=login shows the form despite the session');

    await nextSecond();
    const aged = await authorize(url, jar, { max_age: '0' });
    t.ok(isLoginForm(aged.html), 'max_age=0 asks again');
    const agedNone = await authorize(url, jar, { max_age: '0', prompt: 'none' });
    t.equal(agedNone.url?.searchParams.get('error'), 'login_required', 'and with prompt=none it cannot');
  });

  t.test(`the session of an account locked since does not sign in [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'bob', password: GOOD });
    const { jar } = await signIn(url, { ...sync, login: 'bob', password: GOOD });
    for (let i = 0; i < 10; i++) await ctx.users.authenticate('bob', 'wrong password');

    const again = await authorize(url, jar);
    t.equal(again.status, 200, 'no 500');
    t.ok(isLoginForm(again.html), 'the login form, not a code');
    const none = await authorize(url, jar, { prompt: 'none' });
    t.equal(none.url?.searchParams.get('error'), 'login_required', 'prompt=none: login_required');

    await ctx.users.unlock('bob');
    t.ok((await authorize(url, jar)).url?.searchParams.get('code'), 'unlocked, the session works again');
  });
}
