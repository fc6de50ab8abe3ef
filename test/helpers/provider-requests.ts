import type { AppContext } from '../../src/context.ts';

/**
 * Counts the requests to `path` (under /oidc) that reached the provider itself: a fast path that
 * answered one first leaves the count unchanged.
 */
export function countProviderRequests(ctx: AppContext, path: string): () => number {
  let n = 0;
  ctx.oidc.provider().use(async (kctx, next) => {
    if (kctx.path === path) n++;
    await next();
  });
  return () => n;
}
