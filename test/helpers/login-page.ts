import { authorizeUrl, browse, CookieJar, follow, formAction, formValue, type AuthorizeOptions } from './flow.ts';

export interface LoginForm {
  jar: CookieJar;
  /** The page as served. */
  res: Response;
  html: string;
  /** Absolute URL the form posts to. */
  action: string;
  csrf: string;
  verifier: string;
  state: string;
}

/** Starts an authorization request in a browser-like jar and stops at our login page. */
export async function openLoginForm(base: string, o: AuthorizeOptions & { jar?: CookieJar }): Promise<LoginForm> {
  const jar = o.jar ?? new CookieJar();
  const { url, pkce, state } = authorizeUrl(base, o);
  const step = await follow(jar, base, await browse(jar, url));
  if (step instanceof URL) throw new Error(`expected the login page, went to ${step}`);
  const html = await step.text();
  const action = formAction(html, '/login');
  if (!action) throw new Error(`not the login page (${step.status}): ${html.slice(0, 300)}`);
  return { jar, res: step, html, action: new URL(action, base).toString(), csrf: formValue(html, 'csrf') ?? '', verifier: pkce.verifier, state };
}

/** Posts the login form; the answer is either a page (a refusal) or where the redirects lead. */
export async function submitLogin(base: string, form: LoginForm, login: string, password: string, csrf = form.csrf): Promise<Response | URL> {
  const body = new URLSearchParams({ login, password, csrf });
  return follow(form.jar, base, await browse(form.jar, form.action, { method: 'POST', body }));
}

/** What a refused login page says, with the echoed login and the per-request token taken out. */
export function refusalText(html: string): string {
  return html
    .replaceAll(/\/interaction\/[^/"]+\//g, '/interaction/UID/')
    .replaceAll(/name="csrf" value="[^"]*"/g, 'name="csrf"')
    .replace(/name="login"([^>]*)value="[^"]*"/, 'name="login"$1');
}
