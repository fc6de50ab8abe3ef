import type Provider from 'oidc-provider';
import type { UserRow } from '../accounts/users.repository.ts';
import { UnauthorizedError } from '../errors/app-error.ts';
import type { RequestStore } from '../oidc/request-store.ts';
import type { PatService, VerifiedPat } from '../pat/pat.service.ts';
import { formatScope } from '../pat/scopes.ts';
import { looksLikePat } from '../pat/token-format.ts';
import type { Principal } from './principal.ts';

// Resolves `Authorization: Bearer <PAT or access token>` and, where allowed, `Basic <login:PAT>`
// (SPEC §6.5) to a Principal. Every refusal is a 401 carrying an RFC 6750 §3 challenge; a storage
// failure propagates (503), it never reads as a bad token.

const REALM = 'cells-auth';
// The provider's opaque access tokens are base64url (43 characters at its default 256 bits); anything
// else cannot be one and is refused without a lookup.
const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{20,512}$/;

export type Credentials = { kind: 'bearer'; token: string } | { kind: 'basic'; login: string; secret: string };

/** The credentials of an Authorization header; undefined when there is none, 'malformed' when unusable. */
export function parseAuthorization(header: string | undefined): Credentials | undefined | 'malformed' {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^(\S+)\s+(\S+)\s*$/.exec(header.trim());
  if (!m) return 'malformed';
  const scheme = m[1]!.toLowerCase(); // schemes are case-insensitive (RFC 9110 §11.1)
  const value = m[2]!;
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return 'malformed';
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) return 'malformed';
    return { kind: 'basic', login: decoded.slice(0, i), secret: decoded.slice(i + 1) };
  }
  return 'malformed';
}

export interface AuthenticateOptions {
  /** The client's address, recorded as a PAT's last use. */
  address?: string | null;
  /** Accept `Basic login:PAT` too (forward-auth, WebDAV-style clients). */
  basic?: boolean;
}

function quoted(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

function challenge(basic: boolean, error?: { code: string; description: string }): string {
  const bearer = error
    ? `Bearer realm=${quoted(REALM)}, error=${quoted(error.code)}, error_description=${quoted(error.description)}`
    : `Bearer realm=${quoted(REALM)}`;
  return basic ? `${bearer}, Basic realm=${quoted(REALM)}, charset="UTF-8"` : bearer;
}

function patPrincipal(pat: VerifiedPat): Principal {
  return {
    userId: pat.userId,
    login: pat.login,
    roles: pat.roles,
    via: 'pat',
    nodeGrants: pat.grants,
    tokenId: pat.tokenId,
    scope: pat.grants.map(formatScope).join(' '),
    expiresAt: Math.floor(pat.expiresAt.getTime() / 1000),
    hardExpiresAt: pat.hardExpiresAt ? Math.floor(pat.hardExpiresAt.getTime() / 1000) : null,
  };
}

export function createBearerAuth(deps: {
  pats: Pick<PatService, 'verify' | 'verifyKept'>;
  provider: () => Provider;
  /** Runs the lookups of an access token as one provider request: its grant is read with it. */
  store: Pick<RequestStore, 'run'>;
  findUser(id: string): Promise<UserRow | undefined>;
}) {
  async function fromPat(token: string, address: string | null): Promise<Principal | undefined> {
    const pat = await deps.pats.verify(token, address);
    return pat && patPrincipal(pat);
  }

  /** The provider's own checks for a resource request (lib/shared/access_token.js), minus DPoP/mTLS. */
  async function fromAccessToken(token: string): Promise<Principal | undefined> {
    if (!OPAQUE_TOKEN.test(token)) return undefined;
    const provider = deps.provider();
    const at = await provider.AccessToken.find(token);
    if (!at?.isValid || !at.accountId) return undefined;
    // Sender-constrained tokens need a proof we do not check here; audience-bound ones are for
    // another resource server.
    if (at.jkt || at['x5t#S256'] || at.aud !== undefined) return undefined;
    const grant = await provider.Grant.find(at.grantId, { ignoreExpiration: true });
    if (!grant || grant.isExpired || grant.clientId !== at.clientId || grant.accountId !== at.accountId) return undefined;
    // The provider's own resource checks (userinfo) refuse a token whose client is gone: a client an
    // operator deleted, or dropped from the clients file. So do ours.
    if (!at.clientId || !(await provider.Client.find(at.clientId))) return undefined;
    const user = await deps.findUser(at.accountId);
    if (!user || user.locked) return undefined;
    return {
      userId: user.id,
      login: user.login,
      roles: user.roles,
      via: 'access_token',
      scope: at.scope ?? '',
      expiresAt: at.exp ?? 0,
    };
  }

  /** The principal of a request, or a 401 with the challenge that fits. */
  async function authenticate(header: string | undefined, options: AuthenticateOptions = {}): Promise<Principal> {
    const basic = Boolean(options.basic);
    const address = options.address ?? null;
    const creds = parseAuthorization(header);
    const refuse = (description: string) => new UnauthorizedError(description, 'invalid_token', challenge(basic, { code: 'invalid_token', description }));
    if (creds === undefined) {
      throw new UnauthorizedError(basic ? 'a bearer token or Basic login:token is required' : 'a bearer token is required', 'invalid_token', challenge(basic));
    }
    if (creds === 'malformed' || (creds.kind === 'basic' && !basic)) {
      throw new UnauthorizedError('unsupported authorization', 'invalid_request', challenge(basic, { code: 'invalid_request', description: 'unsupported authorization' }));
    }
    if (creds.kind === 'basic') {
      // Basic carries a PAT as the password, never a password: passwords only go to the login page.
      const principal = looksLikePat(creds.secret) ? await fromPat(creds.secret, address) : undefined;
      if (!principal || principal.login !== creds.login) throw refuse('the login and token do not match a valid token');
      return principal;
    }
    const principal = looksLikePat(creds.token) ? await fromPat(creds.token, address) : await deps.store.run(() => fromAccessToken(creds.token));
    if (!principal) throw refuse('the token is invalid, expired or revoked');
    return principal;
  }

  /**
   * The principal of a PAT that memory alone shows good (PatService.verifyKept), as Bearer or, where
   * allowed, as Basic with its owner's login. Undefined for everything else — no credentials, an
   * access token, a token not kept, a refusal — which `authenticate` then decides, with its 401.
   */
  function authenticateKept(header: string | undefined, options: AuthenticateOptions = {}): Principal | undefined {
    const creds = parseAuthorization(header);
    if (creds === undefined || creds === 'malformed') return undefined;
    const address = options.address ?? null;
    if (creds.kind === 'bearer') {
      const pat = looksLikePat(creds.token) ? deps.pats.verifyKept(creds.token, address) : undefined;
      return pat && patPrincipal(pat);
    }
    if (!options.basic || !looksLikePat(creds.secret)) return undefined;
    const pat = deps.pats.verifyKept(creds.secret, address, creds.login);
    return pat && patPrincipal(pat);
  }

  return { authenticate, authenticateKept };
}

export type BearerAuth = ReturnType<typeof createBearerAuth>;
