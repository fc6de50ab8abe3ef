import t from 'tap';
import { dbKinds } from '../helpers/database.ts';
import { signIn, tokenRequest } from '../helpers/flow.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { describeStatements, recordStatements } from '../helpers/statements.ts';

// RFC 7662 without `token_type_hint` (what most resource servers send): the provider asks for the
// token as an access token and as a refresh token at the same moment. The adapter reads both kinds,
// each with its grant, in one statement.

const PASSWORD = 'correct horse battery';
const SECRET = 'a-long-resource-server-secret';
const REDIRECT = 'http://localhost:3636/servers/callback';
const basic = `Basic ${Buffer.from(`files-api:${SECRET}`).toString('base64')}`;

async function introspect(base: string, token: string) {
  const res = await fetch(`${base}/oidc/oauth2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

for (const kind of dbKinds()) {
  t.test(`introspection without a hint: one statement for every kind of token [${kind}]`, async (t) => {
    const { ctx, url } = await buildTestApp(t, { kind });
    await ctx.users.create({ login: 'alice', password: PASSWORD });
    await ctx.clients.register({ clientId: 'files-api', secret: SECRET, introspect: true });
    const signedIn = await signIn(url, { clientId: 'cells-sync', redirectUri: REDIRECT, login: 'alice', password: PASSWORD });
    const tokens = await tokenRequest(url, {
      grant_type: 'authorization_code',
      code: signedIn.code,
      redirect_uri: REDIRECT,
      client_id: 'cells-sync',
      code_verifier: signedIn.verifier,
    });
    t.equal(tokens.status, 200);
    const accessToken = String(tokens.body.access_token);
    const refreshToken = String(tokens.body.refresh_token);
    await introspect(url, accessToken); // the client's row is read once and kept a moment
    await ctx.audit.flush(); // the sign-in's queued audit event, written now rather than mid-recording

    for (const [what, token, type] of [
      ['an access token', accessToken, 'Bearer'],
      ['a refresh token', refreshToken, undefined],
      ['an unknown token', 'x'.repeat(43), undefined],
    ] as const) {
      const recording = recordStatements();
      const answer = await introspect(url, token);
      const statements = recording.stop();
      t.equal(answer.active, what !== 'an unknown token', `${what}: active is ${answer.active}`);
      if (type) t.equal(answer.token_type, type);
      t.equal(statements.length, 1, `${what}: one statement`) || t.comment(describeStatements(statements));
    }
  });
}
