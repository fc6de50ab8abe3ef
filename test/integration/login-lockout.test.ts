import t from 'tap';
import { sql } from 'kysely';
import { manualClock } from '../../src/util/clock.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { openLoginForm, refusalText, submitLogin } from '../helpers/login-page.ts';

const client = { clientId: 'cells-sync', redirectUri: 'http://localhost:3636' };
const GOOD = 'correct horse battery';

async function refusal(res: Response | URL): Promise<{ status: number; text: string }> {
  if (res instanceof URL) throw new Error(`expected a refusal, the sign-in went through to ${res}`);
  return { status: res.status, text: refusalText(await res.text()) };
}

for (const kind of dbKinds()) {
  t.test(`ten failures lock the account; the refusal never tells why [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: GOOD });
    await ctx.users.create({ login: 'bob', password: GOOD });
    t.equal(ctx.config.login.lockoutThreshold, 10, 'the default threshold is Cells’ ten');
    const form = await openLoginForm(url, client);

    const unknown = await refusal(await submitLogin(url, form, 'nobody', GOOD));
    t.equal(unknown.status, 401);
    t.match(unknown.text, /role="alert"[^>]*>The login or password is incorrect, or the account is locked\./);

    for (let i = 1; i <= 9; i++) {
      const wrong = await refusal(await submitLogin(url, form, 'alice', `wrong ${i}`));
      t.same(wrong, unknown, `failure ${i}: same status and words as an unknown login`);
    }
    t.equal((await ctx.users.findByLogin('alice'))?.locked, false, 'nine failures do not lock');

    const tenth = await refusal(await submitLogin(url, form, 'alice', 'wrong 10'));
    t.same(tenth, unknown, 'the failure that locks looks like any other');
    t.equal((await ctx.users.findByLogin('alice'))?.locked, true, 'the tenth failure locks');

    const lockedRight = await refusal(await submitLogin(url, form, 'alice', GOOD));
    t.same(lockedRight, unknown, 'locked: the right password is refused with the same status and words');

    const other = await submitLogin(url, form, 'bob', GOOD);
    t.ok(other instanceof URL && other.searchParams.get('code'), 'another account signs in meanwhile');
    t.equal((await ctx.users.findByLogin('bob'))?.failed_logins, 0);

    await ctx.users.unlock('alice');
    const again = await openLoginForm(url, client);
    const back = await submitLogin(url, again, 'alice', GOOD);
    t.ok(back instanceof URL && back.searchParams.get('code'), 'unlocked by the operator, the owner signs in again');
  });

  t.test(`a good login forgets the earlier failures [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind, config: { login: { lockoutThreshold: 3 } } });
    await ctx.users.create({ login: 'carol', password: GOOD });
    const form = await openLoginForm(url, client);
    for (let i = 0; i < 2; i++) await submitLogin(url, form, 'carol', 'wrong password');
    t.equal((await ctx.users.findByLogin('carol'))?.failed_logins, 2);
    t.ok((await submitLogin(url, form, 'carol', GOOD)) instanceof URL, 'two failures, then the right password: in');
    t.equal((await ctx.users.findByLogin('carol'))?.failed_logins, 0, 'the count starts again');

    const next = await openLoginForm(url, client);
    for (let i = 0; i < 2; i++) await submitLogin(url, next, 'carol', 'wrong password');
    t.equal((await ctx.users.findByLogin('carol'))?.locked, false, 'the configured threshold counts consecutive failures only');
    await submitLogin(url, next, 'carol', 'wrong password');
    t.equal((await ctx.users.findByLogin('carol'))?.locked, true, 'login.lockoutThreshold is the configured 3');
  });

  t.test(`attempts are throttled per client address, with a readable 429 page [${kind}]`, async (t) => {
    const clock = manualClock();
    const { ctx, url } = await buildTestApp(t, {
      kind,
      clock,
      // X-Forwarded-For from the loopback proxy is believed, so the test can speak from two addresses.
      config: { trustedProxies: ['127.0.0.1'], login: { throttle: { perAddress: 3, windowSeconds: 60 } } },
    });
    await ctx.users.create({ login: 'dave', password: GOOD });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    const form = await openLoginForm(url, client);
    const post = (address: string, password: string) =>
      fetch(form.action, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...from(address).headers, cookie: form.jar.header() },
        body: new URLSearchParams({ login: 'dave', password, csrf: form.csrf }),
      });

    for (let i = 0; i < 3; i++) t.equal((await post('203.0.113.7', 'wrong password')).status, 401, `attempt ${i + 1} is answered`);
    const throttled = await post('203.0.113.7', GOOD);
    t.equal(throttled.status, 429, 'over the limit: 429, even with the right password');
    t.match(throttled.headers.get('content-type'), /^text\/html/, 'a page for a person');
    t.ok(Number(throttled.headers.get('retry-after')) > 0, 'with Retry-After');
    t.equal(throttled.headers.get('cache-control'), 'no-store');
    const page = await throttled.text();
    t.match(page, /<html lang="en">/);
    t.match(page, /role="alert"[^>]*>Too many sign-in attempts from your address/);
    t.notMatch(page, /dave|locked/, 'the throttle page says nothing about the account');

    const elsewhere = await post('198.51.100.9', GOOD);
    t.equal(elsewhere.status, 303, 'another address is not throttled and signs in');
    t.equal((await ctx.users.findByLogin('dave'))?.locked, false, 'throttled attempts never reached the lockout count');

    clock.advance(61_000);
    const later = await openLoginForm(url, client);
    const res = await fetch(later.action, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...from('203.0.113.7').headers, cookie: later.jar.header() },
      body: new URLSearchParams({ login: 'dave', password: GOOD, csrf: later.csrf }),
    });
    t.equal(res.status, 303, 'after the window the address may try again');
  });

  t.test(`failed attempts are counted in the database, for every instance; good ones are not [${kind}]`, async (t) => {
    const clock = manualClock();
    const { ctx, url } = await buildTestApp(t, {
      kind,
      clock,
      config: { trustedProxies: ['127.0.0.1'], login: { throttle: { perAddress: 3, windowSeconds: 60 } } },
    });
    await ctx.users.create({ login: 'erin', password: GOOD });
    const post = async (address: string, login: string, password: string) => {
      const form = await openLoginForm(url, client);
      return fetch(form.action, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'x-forwarded-for': address, cookie: form.jar.header() },
        body: new URLSearchParams({ login, password, csrf: form.csrf }),
      });
    };
    const counted = async (address: string) =>
      (await sql<{ failures: number }>`select failures from login_failures where address = ${address}`.execute(ctx.db.db)).rows.map((r) => r.failures);

    t.equal((await post('203.0.113.7', 'erin', 'wrong password')).status, 401);
    t.equal((await post('203.0.113.7', 'nobody', GOOD)).status, 401, 'an unknown login counts too');
    t.equal((await post('203.0.113.7', 'erin', 'wrong again')).status, 401);
    t.same(await counted('203.0.113.7'), [3], 'three failures, in one window');
    // This instance forgets its own count: what an instance that served none of them knows.
    ctx.loginThrottle.reset('203.0.113.7');
    const refused = await post('203.0.113.7', 'erin', GOOD);
    t.equal(refused.status, 429, 'the failures counted in the database refuse the address, even with the right password');
    t.ok(Number(refused.headers.get('retry-after')) > 0 && Number(refused.headers.get('retry-after')) <= 60, 'until the window ends');
    t.same(await counted('203.0.113.7'), [3], 'a refused attempt is not counted');
    t.equal((await ctx.users.findByLogin('erin'))?.failed_logins, 2, 'nor does it reach the account');

    t.equal((await post('198.51.100.9', 'erin', 'wrong password')).status, 401);
    t.equal((await post('198.51.100.9', 'erin', GOOD)).status, 303, 'another address signs in');
    t.same(await counted('198.51.100.9'), [1], 'a good sign-in is not counted');

    clock.advance(61_000);
    ctx.loginThrottle.reset('203.0.113.7');
    t.equal((await post('203.0.113.7', 'erin', GOOD)).status, 303, 'after the window the address may try again');
    t.equal(await ctx.users.sweepFailures(), 2, 'the ended window is swept');
    t.same(await counted('203.0.113.7'), [], 'nothing left of it');
  });
}
