// Redirect-URI rules (SPEC §2). A registered URI is a pattern that expands to a finite list of exact
// URIs; the provider then accepts a redirect_uri only when it equals one of them, character for
// character (RFC 6749 §3.1.2.3, OAuth 2.0 Security BCP §4.1.3): no prefix, no sub-path, no case
// folding, no userinfo, no fragment, no localhost/127.0.0.1 interchange.

export class RedirectPatternError extends Error {
  override name = 'RedirectPatternError';
}

export interface PlaceholderContext {
  /** The public URLs, the first being the default (`#default_bind#`). */
  publicUrls: string[];
}

const RANGE = /^([a-z][a-z0-9+.-]*:\/\/[^/:?#\s]+):\[(\d{1,5})-(\d{1,5})\](.*)$/i;
const MAX_RANGE = 1024;
// Cells' placeholders (its `varsFromStr`): `#insecure_binds...#` is every plain-http public URL.
const PLACEHOLDER = /#(default_bind|binds\.\.\.|insecure_binds\.\.\.)#/;
const ANY_PLACEHOLDER = /#[a-z_.]+#/i;

/** Replaces Cells' placeholders: `#default_bind#`, `#binds...#`, `#insecure_binds...#` and the `serverName` host. */
export function expandPlaceholders(pattern: string, ctx: PlaceholderContext): string[] {
  const [first] = ctx.publicUrls;
  if (!first) throw new RedirectPatternError('no public URL is configured');
  const known = PLACEHOLDER.exec(pattern);
  if (known) {
    const name = known[0];
    const urls = name === '#default_bind#' ? [first] : name === '#binds...#' ? ctx.publicUrls : ctx.publicUrls.filter((u) => u.startsWith('http:'));
    return urls.map((u) => pattern.replaceAll(name, u));
  }
  // Anything else between hashes is a typo of a placeholder, not a fragment the operator meant.
  const unknown = ANY_PLACEHOLDER.exec(pattern);
  if (unknown) throw new RedirectPatternError(`"${pattern}": unknown placeholder ${unknown[0]} (known: #default_bind#, #binds...#, #insecure_binds...#)`);
  // `cellsauth://serverName`: the host of the public URL stands for the literal word.
  const m = /^([a-z][a-z0-9+.-]*:\/\/)serverName(?=$|[/?:])/i.exec(pattern);
  if (m) return [m[1] + new URL(first).hostname + pattern.slice(m[0].length)];
  return [pattern];
}

/** Expands an inclusive port range `host:[a-b]` into one URI per port. */
export function expandPortRange(pattern: string): string[] {
  const m = RANGE.exec(pattern);
  if (!m) {
    if (/:\[/.test(pattern)) throw new RedirectPatternError(`"${pattern}": a port range is written host:[first-last]`);
    return [pattern];
  }
  const [, origin, lo, hi, rest] = m as unknown as [string, string, string, string, string];
  const from = Number(lo);
  const to = Number(hi);
  if (from < 1 || to > 65535 || from > to) throw new RedirectPatternError(`"${pattern}": the port range must be ascending within 1-65535`);
  if (to - from + 1 > MAX_RANGE) throw new RedirectPatternError(`"${pattern}": a port range may span at most ${MAX_RANGE} ports`);
  const out: string[] = [];
  for (let p = from; p <= to; p++) out.push(`${origin}:${p}${rest}`);
  return out;
}

/** Checks one concrete redirect URI; returns a reason when it cannot be registered. */
export function redirectUriProblem(uri: string): string | null {
  // The provider compares raw strings, and the URL parser would quietly trim these away.
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return 'must not contain spaces or control characters';
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (u.hash || uri.includes('#')) return 'must not contain a fragment';
  if (u.username || u.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?]*@/i.test(uri)) return 'must not contain user information';
  if (u.protocol === 'javascript:' || u.protocol === 'data:' || u.protocol === 'file:' || u.protocol === 'vbscript:') return `must not use the ${u.protocol} scheme`;
  if ((u.protocol === 'http:' || u.protocol === 'https:') && !u.hostname) return 'must have a host';
  // The parser resolves dot segments, so the raw text is what has to be checked.
  const rawPath = uri.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '').split('?')[0]!;
  if (/%2e|%2f|%5c/i.test(rawPath) || /(^|\/)\.{1,2}(\/|$)/.test(rawPath)) return 'must not contain encoded or dot path segments';
  return null;
}

/** Turns registered patterns into the exact URIs the provider compares against. */
export function expandRedirectPatterns(patterns: string[], ctx: PlaceholderContext): string[] {
  const out = new Set<string>();
  for (const pattern of patterns) {
    for (const withHost of expandPlaceholders(pattern, ctx)) {
      for (const uri of expandPortRange(withHost)) {
        const problem = redirectUriProblem(uri);
        if (problem) throw new RedirectPatternError(`redirect URI "${uri}" ${problem}`);
        out.add(uri);
      }
    }
  }
  return [...out];
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The oidc-provider `application_type` for a client's URIs. A `web` client may only use http(s), so
 * a custom scheme (`cellsauth://`) needs `native`. But for a `native` client the provider accepts an
 * http loopback URI on any port (RFC 8252 §7.3), which would undo our port ranges, and refuses plain
 * http elsewhere: such a client may add only https URIs on public hosts.
 */
export function applicationTypeFor(uris: string[]): 'web' | 'native' {
  const parsed = uris.map((raw) => ({ raw, url: new URL(raw) }));
  if (parsed.every(({ url }) => url.protocol === 'http:' || url.protocol === 'https:')) return 'web';
  const bad = parsed.find(({ url }) => url.protocol === 'http:' || (url.protocol === 'https:' && LOOPBACK_HOSTS.has(url.hostname)));
  if (bad) {
    throw new RedirectPatternError(`redirect URI "${bad.raw}" cannot be combined with custom-scheme URIs in one client (register a second client for it)`);
  }
  return 'native';
}
