import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import type Provider from 'oidc-provider';
import { parseAuthorization } from '../auth/bearer.ts';
import type { ClientMetadataSource } from '../clients/client-metadata.ts';
import type { CellsClientMetadata } from '../clients/default-clients.ts';
import { endJson, type FastPath } from '../http/answer-first.ts';
import { offerBody } from '../http/offer-body.ts';
import type { HttpStats } from '../metrics/http-stats.ts';
import { OIDC_PREFIX } from './provider.ts';

// RFC 7662 introspection on the hot path: a resource server asks on every request it serves. The
// provider's endpoint (Fastify's routing and hooks, then Koa, its parameter and client-authentication
// middleware, a lookup per token kind) costs several times the lookup itself. This answers the
// common case from the request Node hands over, before Fastify (http/answer-first.ts): a form body
// holding one token, from a client authenticating with its secret (Basic, or both in the form) that
// is marked `introspect`, for a token an answerer recognises. Anything else — another
// authentication, a bad secret, a duplicated parameter, a browser's CORS request, a token no answerer
// takes, or one it leaves to the provider, a store that fails — goes to the provider untouched, its
// body put back, which then answers exactly as before (the errors are its own). An answer is the
// same object either way.

const PATH = `${OIDC_PREFIX}/oauth2/introspect`;
/** The provider's own body limit: a larger body is its to refuse. */
const BODY_LIMIT = 56 * 1024;
const FORM = /^application\/x-www-form-urlencoded\s*(;|$)/i;
// What the provider would have to decode (form encoding in Basic, RFC 6749 §2.3.1): its to handle.
const NEEDS_DECODING = /[%+]/;
/** Clients whose authentication is kept: resource servers are few; a full table drops its oldest. */
const KEPT_CLIENTS = 256;

/** The client that authenticated, as the provider knows it. */
export type IntrospectingClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** Answers for one kind of token; the first whose `takes` is true is asked. */
export interface IntrospectionAnswerer {
  takes(token: string): boolean;
  /**
   * The RFC 7662 answer, or undefined to leave the request to the provider: a token it does not
   * fully understand, or a store that failed (the provider then answers 503 in its own words).
   */
  answer(token: string, provider: Provider, client: IntrospectingClient): Promise<Record<string, unknown> | undefined>;
  /** The answer memory alone gives, without waiting; undefined when `answer` must decide. */
  answerKept?(token: string, provider: Provider, client: IntrospectingClient): Record<string, unknown> | undefined;
}

interface ClientCredentials {
  clientId: string;
  secret: string;
}

/** The credentials of the one presentation we take: Basic alone, or both in the form alone. */
function credentialsOf(authorization: string | undefined, form: Form): ClientCredentials | undefined {
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

export interface IntrospectionFastPathOptions {
  provider: () => Provider;
  answerers: IntrospectionAnswerer[];
  /** The headers every response carries (http/security-headers.ts). */
  securityHeaders: Record<string, string>;
  stats: HttpStats;
  clientMetadata: ClientMetadataSource;
}

/** What a request asks, once read: the token, who answers for it, the form and the Authorization header. */
interface Question {
  token: string;
  answerer: IntrospectionAnswerer;
  form: Form;
  authorization: string | undefined;
}

/** A client's authentication, good while the provider and the client's metadata are these objects. */
interface Authenticated {
  provider: Provider;
  clientId: string;
  metadata: object;
  client: IntrospectingClient;
}

type Form = Record<string, string | string[] | undefined>;

// What nearly every resource server sends: the token alone, in characters the form encoding leaves
// as they are. Read as it is, without the general parser and its look for repeated parameters.
const TOKEN_ALONE = /^token=([A-Za-z0-9._~-]+)$/;

/** The form's parameters; a repeated one is an array (which the provider refuses). */
function formOf(body: Buffer): Form {
  const text = body.toString('latin1');
  const alone = TOKEN_ALONE.exec(text);
  return alone ? { token: alone[1] } : parseForm(body.toString('utf8'));
}

/**
 * Who presents which credentials, as a key into the kept authentications: the Basic header as
 * sent, or the client and secret of the form. Secrets are kept as digests only. Undefined for any
 * other presentation, which the provider judges.
 */
function presentationOf(authorization: string | undefined, form: Form): string | undefined {
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) return undefined;
  if (authorization !== undefined) return form.client_secret === undefined ? `basic\n${hash('sha256', authorization, 'base64url')}` : undefined;
  const { client_id: clientId, client_secret: secret } = form;
  return typeof clientId === 'string' && typeof secret === 'string' ? `post\n${clientId}\n${hash('sha256', secret, 'base64url')}` : undefined;
}

export function introspectionFastPath(opts: IntrospectionFastPathOptions): FastPath {
  const first = { ...opts.securityHeaders, 'cache-control': 'no-store' };

  // A resource server presents the same credentials on every request, and the provider's way of
  // checking them — its client built anew from the stored metadata, which it digests to find it
  // again, then the secret's digest — was a sixth of an introspection's CPU. The answer is kept for
  // as long as what it was worked out from is the same: the provider (rebuilt when keys change) and
  // the client's metadata. Only success is kept, by the credentials as presented (the Basic
  // header, or the form's client and secret), secrets as digests: a kept presentation is not
  // decoded again.
  const authenticated = new Map<string, Authenticated>();

  /** The client whose authentication is kept for this presentation, provider and metadata, if any. */
  function kept(provider: Provider, key: string, form: Form): IntrospectingClient | undefined {
    const entry = authenticated.get(key);
    if (entry?.provider !== provider || (form.client_id !== undefined && form.client_id !== entry.clientId)) return undefined;
    return opts.clientMetadata.peek(entry.clientId)?.value === entry.metadata ? entry.client : undefined;
  }

  /** The client the credentials authenticate, if it may introspect and we take its case. */
  async function authenticate(provider: Provider, credentials: ClientCredentials, key: string): Promise<IntrospectingClient | undefined> {
    const metadata = await opts.clientMetadata.get(credentials.clientId);
    if (!metadata) return undefined;
    const known = authenticated.get(key);
    if (known?.provider === provider && known.metadata === metadata && known.clientId === credentials.clientId) return known.client;
    const client = await checkSecret(provider, credentials);
    if (!client) return undefined;
    authenticated.delete(key);
    if (authenticated.size >= KEPT_CLIENTS) authenticated.delete(authenticated.keys().next().value!);
    authenticated.set(key, { provider, clientId: credentials.clientId, metadata, client });
    return client;
  }

  /** The provider's own checks of the credentials. */
  async function checkSecret(provider: Provider, credentials: ClientCredentials): Promise<IntrospectingClient | undefined> {
    const client = await provider.Client.find(credentials.clientId);
    if (!client) return undefined;
    const metadata = client as unknown as CellsClientMetadata & { clientAuthMethod: string; clientSecretExpiresAt?: number };
    // Only the plain cases: a secret method, a secret that never expires, a client that may introspect
    // (allowedPolicy in provider.ts). The provider says no to everything else in its own words.
    if (!['client_secret_basic', 'client_secret_post'].includes(metadata.clientAuthMethod) || metadata.clientSecretExpiresAt) return undefined;
    if (!metadata.introspect || !(await client.compareClientSecret(credentials.secret))) return undefined;
    return client;
  }

  /** What the body and headers ask, or undefined to leave the request to the provider. */
  function questionOf(req: IncomingMessage, body: Buffer): Question | undefined {
    const form = formOf(body);
    const token = form.token;
    if (typeof token !== 'string') return undefined;
    const answerer = opts.answerers.find((a) => a.takes(token));
    if (!answerer) return undefined;
    // The provider refuses repeated parameters; so do we, by leaving them to it.
    if (Object.values(form).some(Array.isArray)) return undefined;
    return { token, answerer, form, authorization: req.headers.authorization };
  }

  /**
   * The answer, or undefined to leave the request to the provider. The common case needs no wait:
   * the client's authentication kept, the token's answer in memory. Answered without the general
   * way's chain of waits, 8% more introspections a second (10 alternating rounds, better in 8).
   */
  function answerOf({ token, answerer, form, authorization }: Question): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined> {
    const key = presentationOf(authorization, form);
    if (key === undefined) return undefined;
    const provider = opts.provider();
    const client = kept(provider, key, form);
    const now = client && answerer.answerKept?.(token, provider, client);
    if (now) return now;
    const credentials = credentialsOf(authorization, form);
    if (!credentials) return undefined;
    return authenticate(provider, credentials, key).then((c) => c && answerer.answer(token, provider, c));
  }

  return (req, res) => {
    if (req.method !== 'POST' || req.url !== PATH) return false;
    const { headers } = req;
    if (!FORM.test(headers['content-type'] ?? '') || headers.origin !== undefined) return false;
    if (headers['oauth-client-attestation'] !== undefined || headers['oauth-client-attestation-pop'] !== undefined || headers.dpop !== undefined) return false;
    const start = performance.now();
    const send = (out: Record<string, unknown> | undefined): boolean => {
      if (!out) return false;
      endJson(res, first, out);
      opts.stats.record('POST', PATH, 200, (performance.now() - start) / 1000);
      return true;
    };
    return offerBody(req, BODY_LIMIT, (body) => {
      const question = questionOf(req, body);
      if (!question) return false;
      const out = answerOf(question);
      return out instanceof Promise ? out.then(send) : send(out);
    });
  };
}
