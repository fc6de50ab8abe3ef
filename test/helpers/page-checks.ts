import type { Test } from 'tap';

/**
 * What every page for a person must carry (SPEC §3): HTML with a language, no caching, a CSP with no
 * inline allowance, anti-framing headers, and no inline script or style in the markup.
 */
export function checkPage(t: Test, res: Response, html: string, what: string): void {
  t.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/, `${what}: HTML`);
  t.equal(res.headers.get('cache-control'), 'no-store', `${what}: no-store`);
  const csp = res.headers.get('content-security-policy') ?? '';
  t.match(csp, /default-src 'none'/, `${what}: CSP`);
  t.match(csp, /frame-ancestors 'none'/, `${what}: CSP forbids framing`);
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: no inline allowance`);
  t.equal(res.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  t.match(html, /^<!doctype html>\n<html lang="en">/, `${what}: a language`);
  t.notMatch(html, /<script(?![^>]*\bsrc=)/i, `${what}: no inline script`);
  t.notMatch(html, /<style|\sstyle=|\son[a-z]+=/i, `${what}: no inline style or handler`);
}
