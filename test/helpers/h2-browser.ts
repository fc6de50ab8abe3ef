import type { ClientHttp2Session } from 'node:http2';
import { authorizeUrl, formAction, formValue, type AuthorizeOptions } from './flow.ts';
import { h2, type SimpleResponse } from './tls.ts';

/** A browser over one HTTP/2 session: keeps cookies, records every response. */
export class H2Browser {
  readonly cookies = new Map<string, string>();
  readonly responses: SimpleResponse[] = [];
  readonly setCookieLines: string[] = [];
  private readonly session: ClientHttp2Session;
  constructor(session: ClientHttp2Session) {
    this.session = session;
  }

  async go(path: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<SimpleResponse> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await h2(this.session, path, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
    const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    for (const line of lines) {
      this.setCookieLines.push(line);
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const value = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(pair!.slice(0, i).trim());
      else this.cookies.set(pair!.slice(0, i).trim(), value);
    }
    this.responses.push(res);
    return res;
  }
}

/**
 * The browser part of a code flow over HTTP/2 against `base` (the public URL): authorize, the login
 * form, back to the client's redirect URI. Redirects are followed while they stay on `base`.
 */
export async function signInOverH2(browser: H2Browser, base: string, o: AuthorizeOptions & { login: string; password: string }) {
  const { url, pkce, state } = authorizeUrl(base, o);
  const origin = new URL(base).origin;
  let res = await browser.go(new URL(url).pathname + new URL(url).search);
  const locations: string[] = [];
  for (let i = 0; i < 12; i++) {
    const location = res.headers.location as string | undefined;
    if (res.status >= 300 && res.status < 400 && location) {
      locations.push(location);
      const next = new URL(location, base);
      if (next.origin !== origin) return { callback: next, verifier: pkce.verifier, state, locations };
      res = await browser.go(next.pathname + next.search);
      continue;
    }
    const action = formAction(res.body, '/login');
    if (res.status !== 200 || !action) throw new Error(`sign-in stopped at ${res.status}: ${res.body.slice(0, 300)}`);
    res = await browser.go(new URL(action, base).pathname, { form: { login: o.login, password: o.password, csrf: formValue(res.body, 'csrf') ?? '' } });
  }
  throw new Error('too many steps');
}
