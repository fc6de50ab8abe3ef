import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { recordCli } from '../audit/request-audit.ts';
import { CliError } from './shared.ts';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** SPEC §10: `cells-auth admin token revoke ID`. Revoking a revoked token is not an error. */
export function registerTokenRevoke(token: Command, rt: CommandRuntime): void {
  token
    .command('revoke')
    .description('revoke a personal access token (refused everywhere at once)')
    .argument('<id>', 'the token id (from `admin user tokens`)')
    .action(async (id: string, _opts, cmd: Command) => {
      if (!UUID.test(id)) throw new CliError(`"${id}" is not a token id (expected a UUID, as \`admin user tokens\` lists)`);
      await rt.withContext(cmd, async (ctx) => {
        const result = await ctx.pats.revoke(id.toLowerCase());
        if (result === 'not-found') throw new CliError(`no token with id ${id}`);
        if (result === 'revoked') await recordCli(ctx.audit, rt.osUser, { action: 'token.revoked', target: { type: 'token', id: id.toLowerCase() } });
        rt.out(result === 'revoked' ? `revoked token ${id}\n` : `token ${id} was already revoked\n`);
      });
    });
}
