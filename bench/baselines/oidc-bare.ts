import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { verify as argon2Verify } from '@node-rs/argon2';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

// Baseline: bare node-oidc-provider on plain node:http with its default in-memory adapter, the
// grant semantics cells-auth has (offline → refresh token, rotation on every use, first-party auto
// grant, the same lifetimes and an RS256 2048 key), one account, and a minimal login interaction
// that checks the password with the same stored argon2id hash the bench seeds into cells-auth.
// Everything cells-auth adds — Postgres, Fastify, our pages, CSRF, throttling, audit, metrics — is
// what the ratio measures.

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const account = { id: '00000000-0000-4000-8000-00000000b0b0', login: process.env.BENCH_LOGIN ?? 'bench', hash: process.env.BENCH_HASH ?? '' };
const introspectionSecret = process.env.BENCH_INTROSPECT_SECRET ?? '';
const accessTokenTtl = Number(process.env.BENCH_AT_TTL ?? 600);

const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
const jwk = { ...(await exportJWK(privateKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
const offline = (scopes: Set<string>) => scopes.has('offline') || scopes.has('offline_access');

const configuration: Configuration = {
  clients: [
    {
      client_id: 'cells-sync',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid email profile pydio offline offline_access',
      redirect_uris: ['http://localhost:3636/servers/callback'],
    },
    {
      client_id: 'files-api',
      client_secret: introspectionSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [jwk as never] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  async findAccount(_ctx, sub) {
    if (sub !== account.id) return undefined;
    return { accountId: sub, claims: () => ({ sub, name: account.login, preferred_username: account.login }) };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], pydio: ['name'] },
  scopes: ['openid', 'email', 'profile', 'pydio', 'offline', 'offline_access'],
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && offline(code.scopes),
  rotateRefreshToken: true,
  async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
    grant.addOIDCScope(String(ctx.oidc.params!.scope ?? 'openid'));
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: accessTokenTtl, AuthorizationCode: 600, IdToken: 3600, RefreshToken: 60 * 24 * 3600, Grant: 60 * 24 * 3600, Interaction: 3600, Session: 14 * 24 * 3600 },
  features: { devInteractions: { enabled: false }, revocation: { enabled: true }, introspection: { enabled: true } },
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function loginForm(uid: string): string {
  return `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}/login">` +
    '<input name="login"><input name="password" type="password"><button>Sign in</button></form>';
}

async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, step: string | undefined): Promise<void> {
  if (req.method === 'GET' && !step) {
    await provider.interactionDetails(req, res);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(loginForm(uid));
    return;
  }
  if (req.method === 'POST' && step === 'login') {
    await provider.interactionDetails(req, res);
    const form = await readForm(req);
    const good = form.get('login') === account.login && (await argon2Verify(account.hash, form.get('password') ?? ''));
    if (!good) {
      res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' }).end(loginForm(uid));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
    return;
  }
  res.writeHead(404).end();
}

const server = createServer((req, res) => {
  const m = /^\/interaction\/([^/?]+)(?:\/([a-z]+))?/.exec(req.url ?? '');
  if (!m) return void callback(req, res);
  interaction(req, res, m[1]!, m[2]).catch((err) => {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(String((err as Error).message));
  });
});
server.keepAliveTimeout = 5_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
