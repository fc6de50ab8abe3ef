import type { Command } from 'commander';
import { recordCli } from '../audit/request-audit.ts';
import type { CommandRuntime } from './runtime.ts';

/**
 * The command-line twin of `POST /a/admin/users/{login}/lock`: sign-ins, access tokens and PATs are
 * refused until `admin user unlock`, and what the provider holds for the account (sessions, grants,
 * refresh tokens) ends now.
 */
export function registerUserLock(user: Command, rt: CommandRuntime): void {
  user
    .command('lock')
    .description('lock an account: its sessions and OIDC tokens end; sign-ins and personal access tokens are refused until unlocked')
    .argument('<login>')
    .action(async (login: string, _opts, cmd: Command) => {
      await rt.withContext(cmd, async (ctx) => {
        const { user: locked, providerRecords } = await ctx.usersAdmin.lock(login, null);
        await recordCli(ctx.audit, rt.osUser, { action: 'user.locked', target: { type: 'user', id: locked.id }, details: { login: locked.login, providerRecords } });
        rt.out(`locked user ${locked.login} (${locked.id}); ended ${providerRecords} sessions, grants and tokens (personal access tokens are refused while it is locked)\n`);
      });
    });
}
