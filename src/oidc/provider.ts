import Provider, { type Account, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.ts';
import type { UserRow } from '../accounts/users.repository.ts';
import type { CellsClientMetadata } from '../clients/client-definition.ts';
import { clientSecretMatches } from '../clients/client-secret.ts';
import { isFirstParty, withFirstPartyConsent } from '../clients/first-party-policy.ts';
import { errorPage, logoutPage, signedOutPage } from '../interaction/views.ts';
import { trusted } from '../interaction/html.ts';
import type { KeySet } from './keys.service.ts';
import { isLoopbackOrigin, loopbackOnlyCors } from './cors.ts';
import { guardStore } from './adapter.ts';
import { interactionPolicyWithAccountCheck } from './interaction-policy.ts';
import { postAsGet } from './post-as-get.ts';
import { requestCompat } from './request-compat.ts';

export const OIDC_PREFIX = '/oidc';
export const OFFLINE_SCOPES = ['offline', 'offline_access'];

export interface ProviderDeps {
  config: Config;
  keys: KeySet;
  adapter: NonNullable<Configuration['adapter']>;
  staticClients: CellsClientMetadata[];
  findUser(id: string): Promise<UserRow | undefined>;
}

/** ID token and userinfo claims (SPEC §2): `name` is the login, CellsSync reads the user name from it. */
export function accountClaims(user: UserRow) {
  return {
    sub: user.id,
    name: user.login,
    preferred_username: user.login,
    nickname: user.display_name ?? user.login,
    email: user.email ?? undefined,
    email_verified: user.email ? false : undefined,
    authSource: user.auth_source,
    roles: user.roles,
  };
}

const hasOffline = (scopes: Set<string>) => OFFLINE_SCOPES.some((s) => scopes.has(s));

/**
 * The provider, configured (not patched): adapter, accounts, clients, keys, cookie keys, pages and
 * policies all come in here. Development interactions and development keys are switched off and
 * cannot be switched on: there is no setting for them.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, keys } = deps;
  const secure = config.tls.mode !== 'none' || config.publicUrl.startsWith('https:');

  const configuration: Configuration = {
    adapter: deps.adapter,
    clients: deps.staticClients as ClientMetadata[],
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: keys.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure, signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure, signed: true },
    },
    async findAccount(_ctx, sub): Promise<Account | undefined> {
      const user = await guardStore(() => deps.findUser(sub));
      if (!user || user.locked) return undefined;
      return { accountId: user.id, claims: () => accountClaims(user) };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'nickname', 'authSource'],
      pydio: ['name', 'authSource', 'roles'],
    },
    scopes: ['openid', 'email', 'profile', 'pydio', 'offline', 'offline_access'],
    // Cells clients read name and email from the ID token itself.
    conformIdTokenClaims: false,
    extraClientMetadata: { properties: ['first_party', 'introspect', 'pkce_required', 'redirect_patterns', 'post_logout_redirect_patterns'] },
    // Secrets are kept as digests (see compareClientSecret below), so no method that needs the
    // plaintext secret as a key (client_secret_jwt) can be offered.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    pkce: {
      required: (_ctx, client) => Boolean((client as unknown as CellsClientMetadata).pkce_required),
    },
    // SPEC §2: `offline` (what Cells clients ask for) or `offline_access` yields a refresh token.
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && hasOffline(code.scopes),
    expiresWithSession: async (_ctx, code) => !hasOffline(code.scopes),
    rotateRefreshToken: true,
    // First-party clients never show a consent screen: the grant covers what they ask for, including
    // scopes a later request adds to an existing grant (else that request would meet a consent page).
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(oidc.client!.clientId);
      const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (!isFirstParty(oidc.client)) return existing;
      const grant = existing ?? new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! });
      const granted = new Set(grant.getOIDCScope().split(' '));
      const scopes = [...oidc.requestParamOIDCScopes];
      const claims = [...oidc.requestParamClaims];
      const grantedClaims = new Set(grant.getOIDCClaims());
      if (existing && scopes.every((s) => granted.has(s)) && claims.every((c) => grantedClaims.has(c))) return existing;
      grant.addOIDCScope(scopes.join(' '));
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    interactions: { policy: withFirstPartyConsent(interactionPolicyWithAccountCheck()), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    routes: {
      authorization: '/oauth2/auth',
      token: '/oauth2/token',
      revocation: '/oauth2/revoke',
      introspection: '/oauth2/introspect',
      userinfo: '/userinfo',
      end_session: '/oauth2/sessions/logout',
      jwks: '/.well-known/jwks.json',
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: config.ttl.refreshToken,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      introspection: {
        enabled: true,
        // RFC 7662 §2.1: only resource servers the operator marked may introspect.
        allowedPolicy: async (_ctx, client) => Boolean((client as unknown as CellsClientMetadata).introspect),
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = logoutPage(trusted(form), new URL(config.publicUrl).host);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = signedOutPage(ctx.oidc.client?.clientName);
        },
      },
    },
    // CellsSync runs OIDC from a page on http://localhost:36xx: loopback origins may call us.
    clientBasedCORS: (_ctx, origin) => isLoopbackOrigin(origin),
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.set('cache-control', 'no-store');
      ctx.body = errorPage(ctx.status || 400, 'Sign-in cannot continue', String(out.error_description ?? out.error));
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  };

  const provider = new Provider(`${config.publicUrl}${OIDC_PREFIX}`, configuration);
  // We sit behind our own Fastify server; the mount sets the forwarded headers it believes.
  provider.proxy = true;
  // SPEC §1 and OIDC Core §3.1.2.1 want POST at the authorization endpoint too (post-as-get.ts).
  const { authorization, end_session: endSession } = configuration.routes!;
  provider.use(postAsGet({ [authorization!]: `${provider.issuer}${authorization}`, [endSession!]: `${provider.issuer}${endSession}` }));
  // Client secrets are stored only as SHA-256 digests (STYLE §10), and the provider's own check compares
  // the presented secret with the stored value as plaintext. This one method is replaced: it hashes the
  // presented secret and compares the digests in constant time (client-secret.ts).
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return clientSecretMatches(actual, this.clientSecret);
  };
  provider.use(loopbackOnlyCors);
  provider.use(requestCompat);
  return provider;
}
