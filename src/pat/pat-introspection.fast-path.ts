import { parse as parseForm } from 'node:querystring';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { parseAuthorization } from '../auth/bearer.ts';
import type { CellsClientMetadata } from '../clients/default-clients.ts';
import { UnavailableError } from '../errors/app-error.ts';
import { peekBody } from '../http/peek-body.ts';
import type { ProviderFastPath } from '../oidc/oidc.plugin.ts';
import { OIDC_PREFIX } from '../oidc/provider.ts';
import { patIntrospectionBody } from './pat-introspection.ts';
import type { PatService } from './pat.service.ts';
import { looksLikePat, PAT_PREFIX } from './token-format.ts';

// SPEC §6.4 on the hot path: a resource server introspecting a PAT. The provider's endpoint (client
// authentication, three lookups for the token kinds it knows, then ours in pat-introspection.ts) cost
// ten times a forward-auth check. This answers the one common case directly: a form body holding a
// PAT, from a client authenticating with its secret (Basic or in the form) that is marked
// `introspect`. Anything else — another token, another authentication, a bad secret, a duplicated
// parameter, a browser's CORS request — goes to the provider untouched, which then answers exactly
// as before (the errors are its own). The answer for a PAT is the same object either way.

/** The provider's own body limit: a larger body is its to refuse. */
const BODY_LIMIT = 56 * 1024;
const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;
// What the provider would have to decode (form encoding in Basic, RFC 6749 §2.3.1): its to handle.
const NEEDS_DECODING = /[%+]/;

interface ClientCredentials {
  clientId: string;
  secret: string;
}

/** The credentials of the one presentation we take: Basic alone, or both in the form alone. */
function credentialsOf(authorization: string | undefined, form: Record<string, string | string[] | undefined>): ClientCredentials | undefined {
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) return undefined;
  if (authorization !== undefined) {
    // Exactly `Basic <value>`, as the provider reads it; a looser header is its to judge.
    if (form.client_secret !== undefined || !/^basic \S+$/i.test(authorization)) return undefined;
    const creds = parseAuthorization(authorization);
    if (typeof creds !== 'object' || creds.kind !== 'basic' || !creds.secret) return undefined;
    const { login: clientId, secret } = creds;
    if (NEEDS_DECODING.test(clientId) || NEEDS_DECODING.test(secret)) return undefined;
    if (form.client_id !== undefined && form.client_id !== clientId) return undefined;
    return { clientId, secret };
  }
  const { client_id: clientId, client_secret: secret } = form;
  return typeof clientId === 'string' && clientId && typeof secret === 'string' && secret ? { clientId, secret } : undefined;
}

export function patIntrospectionFastPath(deps: { provider: () => Provider; pats: Pick<PatService, 'verify'>; log: Logger }): ProviderFastPath {
  async function answer(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const { headers } = request;
    if (!FORM.test(headers['content-type'] ?? '') || headers.origin !== undefined) return false;
    if (headers['oauth-client-attestation'] !== undefined || headers['oauth-client-attestation-pop'] !== undefined || headers.dpop !== undefined) return false;
    const body = await peekBody(request.raw, BODY_LIMIT);
    // No PAT prefix anywhere in the body (an access or refresh token): the provider's, unparsed.
    if (!body || body.indexOf(PAT_PREFIX) === -1) return false;
    const form = parseForm(body.toString('utf8'));
    const token = form.token;
    if (typeof token !== 'string' || !looksLikePat(token)) return false;
    // The provider refuses repeated parameters; so do we, by leaving them to it.
    if (Object.values(form).some(Array.isArray)) return false;
    const credentials = credentialsOf(headers.authorization, form);
    if (!credentials) return false;

    const provider = deps.provider();
    const client = await provider.Client.find(credentials.clientId);
    if (!client) return false;
    const metadata = client as unknown as CellsClientMetadata & { clientAuthMethod: string; clientSecretExpiresAt?: number };
    // Only the plain cases: a secret method, a secret that never expires, a client that may introspect
    // (allowedPolicy in provider.ts). The provider says no to everything else in its own words.
    if (!['client_secret_basic', 'client_secret_post'].includes(metadata.clientAuthMethod) || metadata.clientSecretExpiresAt) return false;
    if (!metadata.introspect || !(await client.compareClientSecret(credentials.secret))) return false;

    let pat: Awaited<ReturnType<PatService['verify']>>;
    try {
      // The resource server introspects because the holder just presented the token: that is a use.
      // The holder's address is not known here, so the last known one is kept.
      pat = await deps.pats.verify(token, null);
    } catch (err) {
      // Whatever failed, the answer is "ask again", never `active: false` (as in pat-introspection.ts).
      deps.log.error({ err, route: `${OIDC_PREFIX}/oauth2/introspect` }, 'PAT introspection failed');
      throw new UnavailableError('the token store is unavailable');
    }
    await reply.code(200).header('cache-control', 'no-store').send(pat ? patIntrospectionBody(pat, provider.issuer) : { active: false });
    return true;
  }

  return { method: 'POST', path: '/oauth2/introspect', answer };
}
