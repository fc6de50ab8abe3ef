import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { recordCli } from '../audit/request-audit.ts';
import type { RegisterClientInput } from '../clients/clients.schemas.ts';
import { clientAuditDetails } from '../audit/client-details.ts';
import { asCliError, describeClient } from './client-view.ts';
import { CliError, collect } from './shared.ts';

interface CreateOptions {
  name?: string;
  redirectUri: string[];
  grant?: string[];
  firstParty?: boolean;
  introspect?: boolean;
  public?: boolean;
  secretStdin?: boolean;
}

export function registerClientCreate(client: Command, rt: CommandRuntime): void {
  client
    .command('create')
    .description('register a client; a confidential one gets a generated secret, printed once, unless --secret-stdin')
    .argument('<id>', 'the client_id')
    .option('--name <name>', 'the name shown on the consent page')
    .option('--redirect-uri <uri>', 'a redirect URI, repeatable; port ranges host:[a-b] and #default_bind# / #binds...# accepted', collect, [])
    .option('--grant <grant>', 'authorization_code or refresh_token, repeatable (default: both when there are redirect URIs)', collect)
    .option('--first-party', 'no consent screen')
    .option('--introspect', 'a resource server allowed to call the introspection endpoint (confidential)')
    .option('--public', 'a public client: no secret, PKCE required')
    .option('--secret-stdin', 'read the secret from standard input instead of generating one')
    .action(async (id: string, opts: CreateOptions, cmd: Command) => {
      if (opts.public && opts.secretStdin) throw new CliError('--public and --secret-stdin exclude each other: a public client has no secret');
      const secret = opts.secretStdin ? await rt.readStdin() : undefined;
      await rt.withContext(cmd, async (ctx) => {
        const registered = await ctx.clients
          .register({
            clientId: id,
            name: opts.name,
            public: Boolean(opts.public),
            firstParty: Boolean(opts.firstParty),
            introspect: Boolean(opts.introspect),
            // Checked against the known grants by the service's schema.
            grants: opts.grant as RegisterClientInput['grants'],
            redirectUris: opts.redirectUri,
            secret,
          })
          .catch((err: unknown) => {
            throw asCliError(err);
          });
        await recordCli(ctx.audit, rt.osUser, { action: 'client.created', target: { type: 'client', id: registered.client.clientId }, details: clientAuditDetails(registered.client) });
        rt.out(`created ${describeClient(registered.client)}`);
        // Printed once, to the terminal; only its digest is stored.
        if (registered.secret) rt.out(`client secret: ${registered.secret}\nThis secret is shown once: keep it now.\n`);
      });
    });
}
