import type { Command } from 'commander';
import { recordCli } from '../audit/request-audit.ts';
import type { CommandRuntime } from './runtime.ts';
import { CliError } from './shared.ts';

/**
 * The command-line twin of `DELETE /a/admin/users/{login}`: the account goes with its personal
 * access tokens and every session, grant and token the provider holds for it, at once. That cannot
 * be undone, so it is asked for with `--yes`: a prompt would not reach a shell whose command the
 * server runs (served-commands.ts), and a script states it once. Like the API, it answers once
 * every instance refuses the account's PATs (core-context.ts).
 */
export function registerUserDelete(user: Command, rt: CommandRuntime): void {
  user
    .command('delete')
    .description('delete an account with its personal access tokens, sessions and OIDC tokens (cannot be undone)')
    .argument('<login>')
    .option('--yes', 'confirm: the account and everything issued to it go for good')
    .action(async (login: string, opts: { yes?: boolean }, cmd: Command) => {
      if (!opts.yes) throw new CliError(`deleting a user cannot be undone: add --yes to delete "${login}" with its tokens and sessions`);
      await rt.withContext(cmd, async (ctx) => {
        const { user: deleted, providerRecords } = await ctx.usersAdmin.remove(login, null);
        await recordCli(ctx.audit, rt.osUser, { action: 'user.deleted', target: { type: 'user', id: deleted.id }, details: { login: deleted.login, providerRecords } });
        rt.out(`deleted user ${deleted.login} (${deleted.id}); ended ${providerRecords} sessions, grants and tokens, and its personal access tokens\n`);
      });
    });
}
