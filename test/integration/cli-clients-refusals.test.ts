import t from 'tap';
import { commandDatabase, expectCliFailure, runCli } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';

// The client commands' refusals, as an operator meets them: exit 1, nothing on stdout, one line on
// stderr naming the argument, and nothing stored.

const run = (env: Record<string, string>, args: string[], input?: string) => runCli(args, { env, input });

for (const kind of dbKinds()) {
  // Every refusal below happens before or in the service, whatever the database: one run (on the
  // database the brief names, Postgres) is enough, and each spawned command costs a second or two.
  if (kind === 'postgres' || !dbKinds().includes('postgres')) t.test(`client commands fail with one line and exit 1 [${kind}]`, async (t) => {
    const { env } = await commandDatabase(t, kind);
    t.equal((await run(env, ['admin', 'client', 'create', 'webapp', '--public', '--redirect-uri', 'https://a.example/cb'])).code, 0);
    const cases: Array<[string[], RegExp, string?]> = [
      [['admin', 'client', 'create', 'webapp', '--public', '--redirect-uri', 'https://b.example/cb'], /a client with id "webapp" already exists/],
      [['admin', 'client', 'create', 'cells-sync', '--public', '--redirect-uri', 'https://b.example/cb'], /client "cells-sync" is a default client: choose another id/],
      [['admin', 'client', 'create', 'x', '--public', '--redirect-uri', 'https://b.example/cb#frag'], /--redirect-uri: redirect URI "https:\/\/b\.example\/cb#frag" must not contain a fragment/],
      [['admin', 'client', 'create', 'x', '--public', '--redirect-uri', 'http://localhost:[9000-8000]'], /--redirect-uri: "http:\/\/localhost:\[9000-8000\]": the port range must be ascending within 1-65535/],
      [['admin', 'client', 'create', 'x', '--public', '--grant', 'password', '--redirect-uri', 'https://b.example/cb'], /--grant #1: expected one of authorization_code, refresh_token/],
      [['admin', 'client', 'create', 'x', '--public'], /--grant: a client needs at least one grant, or introspect/],
      [['admin', 'client', 'create', 'x', '--public', '--introspect'], /--introspect: only a confidential client \(one with a secret\) may introspect/],
      [['admin', 'client', 'create', 'x', '--public', '--secret-stdin'], /--public and --secret-stdin exclude each other: a public client has no secret/, 'a-long-enough-secret-value'],
      [['admin', 'client', 'create', 'x', '--secret-stdin', '--introspect'], /the secret: must be at least 16 characters/, 'short\n'],
      [['admin', 'client', 'create', 'bad id', '--public', '--redirect-uri', 'https://b.example/cb'], /ID: letters, digits and \. _ : - only, starting with a letter or digit, at most 128/],
    ];
    for (const [args, message, input] of cases) {
      expectCliFailure(t, await run(env, args, input), message, args.slice(3).join(' '));
    }
    const usage = await run(env, ['admin', 'client', 'create']);
    t.equal(usage.code, 1, 'a missing argument: exit 1');
    t.match(usage.stderr, /missing required argument 'id'/);
    const listed = JSON.parse((await run(env, ['clients', 'list', '--json'])).stdout) as unknown[];
    t.equal(listed.length, 4, 'none of the failures stored anything');
  });
}
