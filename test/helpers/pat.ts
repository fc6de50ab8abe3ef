import { createServer } from 'node:http';
import { signIn, tokenRequest } from './flow.ts';
import { parseTokenRequest, type RawTokenRequest } from '../../src/pat/token-request.ts';
import type { AppContext } from '../../src/context.ts';

/** Creates a user (cheap, fixed password) and returns it. */
export async function makeUser(ctx: AppContext, login: string, opts: { admin?: boolean; password?: string } = {}) {
  const { user } = await ctx.users.create({ login, admin: opts.admin, password: opts.password ?? 'correct horse battery' });
  return user;
}

/** Mints a token for a user the way the CLI does. */
export async function mintFor(ctx: AppContext, userId: string, raw: RawTokenRequest, label = 'test') {
  return ctx.pats.mint({ owner: { id: userId }, request: parseTokenRequest(raw), label, createdBy: null, createdVia: 'cli' });
}

/** A real access token for a user, through the browser code flow of the CellsSync client. */
export async function accessTokenFor(base: string, login: string, password = 'correct horse battery'): Promise<string> {
  const redirectUri = 'http://localhost:3636/servers/callback';
  const { code, verifier } = await signIn(base, { clientId: 'cells-sync', redirectUri, login, password });
  const res = await tokenRequest(base, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'cells-sync', code_verifier: verifier });
  if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const basic = (login: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${login}:${secret}`).toString('base64')}` });

/** An upstream behind a proxy under test: it answers with the URL and headers that reached it. */
export async function echoUpstream(t: { teardown(fn: () => unknown): void }): Promise<{ host: string }> {
  const upstream = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => upstream.close(() => r())));
  return { host: `127.0.0.1:${(upstream.address() as { port: number }).port}` };
}
