import t from 'tap';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { freshDatabase } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { freePort } from '../helpers/harness.ts';
import { runCli, startInstance, type Instance } from '../helpers/instances.ts';
import { openLoginForm, submitLogin } from '../helpers/login-page.ts';

// Three processes on one Postgres database behind one public URL, as behind a load balancer.
t.test('several instances share sessions, tokens and keys', async (t) => {
  const db = await freshDatabase('postgres');
  const ports = [await freePort(), await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  const env = { DATABASE_URL: db.url!, CELLS_AUTH_PUBLIC_URL: publicUrl, CELLS_AUTH_ADMIN_PASSWORD: 'first-admin-password' };
  const instances: Instance[] = [];
  t.teardown(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await db.drop();
  });
  // Started one after the other would hide a race: start them together.
  instances.push(...(await Promise.all(ports.map((port) => startInstance({ port, env })))));
  const [a, b, c] = instances as [Instance, Instance, Instance];

  const redirectUri = 'http://localhost:3636';
  // The browser part on A; the code redeemed on B; userinfo on C.
  const { code, verifier } = await signIn(a.url, { clientId: 'cells-sync', redirectUri, login: 'admin', password: 'first-admin-password' });
  const tokens = await tokenRequest(b.url, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
  t.equal(tokens.status, 200, 'a code from one instance is redeemed on another');
  const info = await fetch(`${c.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
  t.equal(info.status, 200, 'an access token from one instance is good on a third');
  t.equal(decodeJwt(String(tokens.body.id_token)).iss, `${publicUrl}/oidc`);

  // Parallel refreshes of one token spread over the instances: exactly one winner.
  const rt = String(tokens.body.refresh_token);
  const results = await Promise.all([a, b, c, a, b, c].map((i) => tokenRequest(i.url, { grant_type: 'refresh_token', refresh_token: rt, client_id: 'cells-sync' })));
  t.equal(results.filter((r) => r.status === 200).length, 1, 'one refresh wins across instances');
  const winner = results.find((r) => r.status === 200)!;

  // A key rotation made by the CLI is seen by every instance within a second or two.
  const jwksBefore = (await (await fetch(`${a.url}/oidc/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  const rotated = await runCli(['keys', 'rotate'], env);
  t.equal(rotated.code, 0, rotated.stderr);
  const activated = /signing with (\S+);/.exec(rotated.stdout)?.[1];
  t.ok(activated, 'the CLI names the new signing key');
  t.ok(jwksBefore.keys.some((k) => k.kid === activated), 'the new signing key was published before it signed');
  await new Promise((r) => setTimeout(r, 1500));
  for (const i of instances) {
    const refreshed = await tokenRequest(i.url, { grant_type: 'refresh_token', refresh_token: String(winner.body.refresh_token), client_id: 'cells-sync' });
    t.equal(refreshed.status, 200);
    t.equal(decodeProtectedHeader(String(refreshed.body.id_token)).kid, activated, `${i.url} signs with the rotated key`);
    winner.body.refresh_token = refreshed.body.refresh_token;
    const jwks = (await (await fetch(`${i.url}/oidc/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    t.equal(jwks.keys.length, 3, 'next, active and the retired key are published');
  }

  // A PAT revoked through one instance is refused by every instance at once (SPEC §6.3).
  const minted = await runCli(['admin', 'user', 'token', '-u', 'admin', '-e', '1h', '-q'], env);
  t.equal(minted.code, 0, minted.stderr);
  const pat = minted.stdout.trim();
  for (const i of instances) {
    const ok = await fetch(`${i.url}/a/auth/verify`, { headers: { authorization: `Bearer ${pat}` } });
    t.equal(ok.status, 200, `${i.url} accepts the PAT`);
  }
  const listed = await fetch(`${a.url}/a/admin/users/admin/tokens`, { headers: { authorization: `Bearer ${pat}` } });
  const { tokens: patList } = (await listed.json()) as { tokens: { id: string }[] };
  const revoked = await fetch(`${a.url}/a/admin/tokens/${patList[0]!.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${pat}` } });
  t.equal(revoked.status, 204, 'revoked on A');
  const revokedAt = Date.now();
  for (const i of [b, c]) {
    const res = await fetch(`${i.url}/a/auth/verify`, { headers: { authorization: `Bearer ${pat}` } });
    t.equal(res.status, 401, `${i.url} refuses the revoked PAT`);
  }
  t.ok(Date.now() - revokedAt < 1000, 'within a second of the revocation');

  // Failed sign-ins from one address are counted for every instance (login.throttle.perAddress, 30
  // by default): 15 on A and 15 on B, each under its own limit, and C refuses the address at once.
  for (const i of [...Array<Instance>(15).fill(a), ...Array<Instance>(15).fill(b)]) {
    const form = await openLoginForm(i.url, { clientId: 'cells-sync', redirectUri });
    const res = await submitLogin(i.url, form, 'admin', 'not the password');
    if (res instanceof URL || res.status !== 401) t.fail(`a wrong password is answered 401 (${res instanceof URL ? res : res.status})`);
  }
  const onC = await openLoginForm(c.url, { clientId: 'cells-sync', redirectUri });
  const refused = await submitLogin(c.url, onC, 'admin', 'first-admin-password');
  t.equal(refused instanceof URL ? 'signed in' : refused.status, 429, 'an instance that served none of the failures refuses the address');
  await runCli(['admin', 'user', 'unlock', 'admin'], env);

  // SIGTERM: every instance exits cleanly.
  for (const i of instances) t.equal(await i.stop(), 0, 'exits 0 on SIGTERM');
});
