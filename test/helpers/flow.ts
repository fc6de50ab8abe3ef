import { createHash, randomBytes } from 'node:crypto';

/** A minimal cookie jar: name → value, per origin (tests talk to one server). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** fetch without following redirects, sending and keeping cookies. */
export async function browse(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (jar.cookies.size) headers.set('cookie', jar.header());
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(res);
  return res;
}

export function formValue(page: string, name: string): string | undefined {
  const m = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(page) ?? new RegExp(`value="([^"]*)"[^>]*name="${name}"`).exec(page);
  return m?.[1];
}

export function formAction(page: string, suffix: string): string | undefined {
  return new RegExp(`action="([^"]*${suffix})"`).exec(page)?.[1];
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri: string;
  scope?: string;
  pkce?: boolean;
  extra?: Record<string, string>;
}

export function authorizeUrl(base: string, o: AuthorizeOptions, pkce = pkcePair(), state = randomBytes(8).toString('hex')): { url: string; pkce: typeof pkce; state: string } {
  const u = new URL(`${base}/oidc/oauth2/auth`);
  u.searchParams.set('client_id', o.clientId);
  u.searchParams.set('redirect_uri', o.redirectUri);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('scope', o.scope ?? 'openid email profile offline');
  u.searchParams.set('state', state);
  if (o.pkce !== false) {
    u.searchParams.set('code_challenge', pkce.challenge);
    u.searchParams.set('code_challenge_method', 'S256');
  }
  for (const [k, v] of Object.entries(o.extra ?? {})) u.searchParams.set(k, v);
  return { url: u.toString(), pkce, state };
}

/** Follows redirects on our server until one leaves it (to the client's redirect URI) or a page shows. */
export async function follow(jar: CookieJar, base: string, res: Response): Promise<Response | URL> {
  let current = res;
  for (let i = 0; i < 10; i++) {
    const location = current.headers.get('location');
    if (current.status < 300 || current.status >= 400 || !location) return current;
    const next = new URL(location, base);
    if (next.origin !== new URL(base).origin || next.pathname.endsWith('/oob')) return next;
    current = await browse(jar, next.toString());
  }
  throw new Error('too many redirects');
}

export interface SignInResult {
  code: string;
  callback: URL;
  verifier: string;
  state: string;
  jar: CookieJar;
}

/** The whole browser part of a code flow: authorize, the login form, (consent), back to the client. */
export async function signIn(base: string, o: AuthorizeOptions & { login: string; password: string; jar?: CookieJar; consent?: boolean }): Promise<SignInResult> {
  const jar = o.jar ?? new CookieJar();
  const { url, pkce, state } = authorizeUrl(base, o);
  let step = await follow(jar, base, await browse(jar, url));
  let loggedIn = false;
  for (let i = 0; i < 4 && !(step instanceof URL); i++) {
    const page = await step.text();
    const login = formAction(page, '/login');
    if (login && loggedIn) throw new Error(`sign-in refused (${step.status})`);
    loggedIn ||= Boolean(login);
    const consent = formAction(page, '/consent');
    const csrf = formValue(page, 'csrf') ?? '';
    if (login) {
      const body = new URLSearchParams({ login: o.login, password: o.password, csrf });
      step = await follow(jar, base, await browse(jar, new URL(login, base).toString(), { method: 'POST', body }));
    } else if (consent && o.consent !== false) {
      step = await follow(jar, base, await browse(jar, new URL(consent, base).toString(), { method: 'POST', body: new URLSearchParams({ csrf }) }));
    } else {
      throw new Error(`sign-in stopped at a page (${step.status}): ${page.slice(0, 400)}`);
    }
  }
  if (!(step instanceof URL)) throw new Error('sign-in did not come back to the client');
  const code = step.searchParams.get('code');
  if (!code) throw new Error(`no code in ${step}`);
  return { code, callback: step, verifier: pkce.verifier, state, jar };
}

export async function tokenRequest(base: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/oidc/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
