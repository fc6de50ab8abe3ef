import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { default as Provider, Interaction, InteractionResults } from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import { z } from 'zod';
import type { UsersService } from '../accounts/users.service.ts';
import { BadRequestError, TooManyRequestsError } from '../errors/app-error.ts';
import type { Throttle } from '../util/throttle.ts';
import { csrfToken, csrfValid } from './csrf.ts';
import { consentPage, loginPage } from './views.ts';

export interface InteractionDeps {
  provider: () => Provider;
  users: UsersService;
  throttle: Throttle;
  /** The key the CSRF tokens are made with. */
  csrfKey: () => string;
  onLogin?: (event: { ok: boolean; userId?: string; login: string; ip: string; lockedNow?: boolean }) => void;
}

const TOO_MANY = 'Too many sign-in attempts from your address. Wait a few minutes and try again.';

// The same words for every failure: they never tell whether the login exists or is locked.
const LOGIN_FAILED = 'The login or password is incorrect, or the account is locked.';

const uidParams = z.object({ uid: z.string().min(1).max(128) });
const loginBody = z.object({
  login: z.string().max(256).default(''),
  password: z.string().max(1024).default(''),
  csrf: z.string().max(128).optional(),
});
const csrfBody = z.object({ csrf: z.string().max(128).optional() });

function page(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** The login, consent and cancel steps of an authorization request (our own pages). */
export async function interactionRoutes(app: FastifyInstance, deps: InteractionDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pageConfig = { page: true };

  // An unknown, expired or finished interaction is the person's everyday case (a stale tab, the back
  // button): a readable page, never a 500.
  const EXPIRED = 'This sign-in request has expired or is unknown. Start again from the application.';
  async function orExpired<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (err instanceof oidcErrors.SessionNotFound) throw new BadRequestError(EXPIRED);
      throw err;
    }
  }

  async function details(request: FastifyRequest, reply: FastifyReply, uid: string) {
    const d = await orExpired(deps.provider().interactionDetails(request.raw, reply.raw));
    // The interaction comes from its cookie, the CSRF token from the path: they must be the same one.
    if (d.uid !== uid) throw new BadRequestError(EXPIRED);
    return d;
  }

  // What provider.interactionResult does, on the interaction this request already read: that
  // method would look it up again (one more statement per login, consent or cancel).
  async function finish(reply: FastifyReply, interaction: Interaction, result: InteractionResults, merge = false) {
    interaction.result = merge && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    return reply.header('cache-control', 'no-store').redirect(interaction.returnTo, 303);
  }

  function checkCsrf(uid: string, token: string | undefined) {
    if (!csrfValid(deps.csrfKey(), uid, token)) throw new BadRequestError('This form has expired. Go back and try again.');
  }

  const clientName = async (clientId: string) => {
    const client = await deps.provider().Client.find(clientId);
    return client?.clientName ?? clientId;
  };

  r.get('/interaction/:uid', { schema: { params: uidParams }, config: pageConfig }, async (request, reply) => {
    const d = await details(request, reply, request.params.uid);
    const { uid } = request.params;
    const name = await clientName(String(d.params.client_id));
    if (d.prompt.name === 'login') {
      const hint = typeof d.params.login_hint === 'string' ? d.params.login_hint : undefined;
      return page(reply, 200, loginPage({ action: `/interaction/${uid}/login`, csrf: csrfToken(deps.csrfKey(), uid), clientName: name, login: hint }));
    }
    const user = await deps.users.findById(String(d.session?.accountId));
    const missing = (d.prompt.details.missingOIDCScope as string[] | undefined) ?? String(d.params.scope ?? '').split(' ');
    return page(
      reply,
      200,
      consentPage({
        action: `/interaction/${uid}/consent`,
        abortAction: `/interaction/${uid}/abort`,
        csrf: csrfToken(deps.csrfKey(), uid),
        clientName: name,
        login: user?.login ?? 'you',
        scopes: missing.filter(Boolean),
      }),
    );
  });

  r.post('/interaction/:uid/login', { schema: { params: uidParams, body: loginBody }, config: pageConfig }, async (request, reply) => {
    const { uid } = request.params;
    const { login, password, csrf } = request.body;
    const d = await details(request, reply, request.params.uid);
    if (d.prompt.name !== 'login') throw new BadRequestError('This sign-in request is not waiting for a login.');
    checkCsrf(uid, csrf);
    // Two limits per address: this instance's count of every attempt (before anything is read), and
    // the failures counted in the database by every instance (read with the account, before its hash).
    const wait = deps.throttle.hit(request.ip);
    if (wait > 0) throw new TooManyRequestsError(TOO_MANY, wait);

    const result = await deps.users.authenticate(login, password, { address: request.ip });
    if (!result.ok && result.retryAfterSeconds) throw new TooManyRequestsError(TOO_MANY, result.retryAfterSeconds);
    deps.onLogin?.({ ok: result.ok, userId: result.ok ? result.user.id : result.userId, login, ip: request.ip, lockedNow: result.ok ? false : result.lockedNow });
    if (!result.ok) {
      const name = await clientName(String(d.params.client_id));
      return page(reply, 401, loginPage({ action: `/interaction/${uid}/login`, csrf: csrfToken(deps.csrfKey(), uid), clientName: name, login, error: LOGIN_FAILED }));
    }
    return finish(reply, d, { login: { accountId: result.user.id, amr: ['pwd'] } });
  });

  r.post('/interaction/:uid/consent', { schema: { params: uidParams, body: csrfBody }, config: pageConfig }, async (request, reply) => {
    const { uid } = request.params;
    const d = await details(request, reply, request.params.uid);
    if (d.prompt.name !== 'consent') throw new BadRequestError('This sign-in request is not waiting for a consent.');
    checkCsrf(uid, request.body.csrf);
    const provider = deps.provider();
    const accountId = String(d.session?.accountId);
    const clientId = String(d.params.client_id);
    const grant = (d.grantId && (await provider.Grant.find(d.grantId))) || new provider.Grant({ accountId, clientId });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = d.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return finish(reply, d, { consent: { grantId } }, true);
  });

  r.post('/interaction/:uid/abort', { schema: { params: uidParams, body: csrfBody }, config: pageConfig }, async (request, reply) => {
    const { uid } = request.params;
    const d = await details(request, reply, request.params.uid);
    checkCsrf(uid, request.body.csrf);
    return finish(reply, d, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' });
  });
}
