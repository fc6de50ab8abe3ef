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
