import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { formAction, formValue, pkcePair } from '../../test/helpers/flow.ts';
import { FORM, form, request, type Reply } from './http.ts';

// One whole sign-in as a browser and a native client do it, against any OpenID provider whose
// login form posts `login` and `password` to `…/login`: authorize (PKCE S256) → login page → the
// form → back to the authorization endpoint → the code at the redirect URI → the token request.
// A fresh cookie jar per flow, so every flow shows and submits the login form.

export const CLIENT_ID = 'cells-sync';
export const REDIRECT_URI = 'http://localhost:3636/servers/callback';

export interface Endpoints {
  authorization: string;
  token: string;
  introspection: string;
}

export async function discover(ag: http.Agent, issuer: string): Promise<Endpoints> {
  const res = await request(ag, 'GET', `${issuer}/.well-known/openid-configuration`);
  if (res.status !== 200) throw new Error(`discovery of ${issuer}: ${res.status}`);
  const d = JSON.parse(res.body) as Record<string, string>;
  return { authorization: d.authorization_endpoint!, token: d.token_endpoint!, introspection: d.introspection_endpoint! };
}

class Jar {
  private readonly cookies = new Map<string, string>();
  store(res: Reply): void {
    for (const line of res.headers['set-cookie'] ?? []) {
      const pair = line.split(';', 1)[0]!;
      const i = pair.indexOf('=');
      const value = pair.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, i));
      else this.cookies.set(pair.slice(0, i), value);
    }
  }
  header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
}

/** The requests of a sign-in, in order, as `signIn` names them to its `step`. */
export const SIGN_IN_STEPS = ['authorize', 'login page', 'login form', 'back to authorize', 'token'] as const;
export type SignInStep = (typeof SIGN_IN_STEPS)[number];

/** Runs one request of a sign-in (to time it); by default just runs it. */
export type StepRunner = <T>(step: SignInStep, request: () => Promise<T>) => Promise<T>;

export async function signIn(ag: http.Agent, ep: Endpoints, login: string, password: string, step: StepRunner = (_, run) => run()): Promise<Tokens> {
  const jar = new Jar();
  const origin = new URL(ep.authorization).origin;
  const go = (name: SignInStep, method: string, url: string, body?: string) =>
    step(name, async () => {
      const res = await request(ag, method, new URL(url, origin).toString(), { ...jar.header(), ...(body === undefined ? {} : FORM) }, body);
      jar.store(res);
      return res;
    });
  const pkce = pkcePair();
  const auth = new URL(ep.authorization);
  const state = randomBytes(8).toString('hex');
  for (const [k, v] of Object.entries({ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid email profile offline', state, code_challenge: pkce.challenge, code_challenge_method: 'S256' })) {
    auth.searchParams.set(k, v);
  }
  let res = await go('authorize', 'GET', auth.toString());
  const toLogin = res.headers.location;
  if (res.status !== 303 || !toLogin) throw new Error(`authorize: ${res.status} ${res.body.slice(0, 200)}`);
  res = await go('login page', 'GET', toLogin);
  const action = formAction(res.body, '/login');
  if (res.status !== 200 || !action) throw new Error(`login page: ${res.status} ${res.body.slice(0, 200)}`);
  res = await go('login form', 'POST', new URL(action, new URL(toLogin, origin)).toString(), form({ login, password, csrf: formValue(res.body, 'csrf') ?? '' }));
  let location = res.headers.location;
  for (let i = 0; i < 3 && location && !location.startsWith(REDIRECT_URI); i++) {
    res = await go('back to authorize', 'GET', location);
    location = res.headers.location;
  }
  if (!location?.startsWith(REDIRECT_URI)) throw new Error(`sign-in did not come back: ${res.status} ${res.body.slice(0, 200)}`);
  const callback = new URL(location);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) throw new Error(`no code in ${location}`);
  const tok = await step('token', () => request(ag, 'POST', ep.token, FORM, form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, code_verifier: pkce.verifier })));
  if (tok.status !== 200) throw new Error(`token: ${tok.status} ${tok.body.slice(0, 200)}`);
  return JSON.parse(tok.body) as Tokens;
}
