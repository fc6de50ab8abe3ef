import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { recordCli } from '../audit/request-audit.ts';

export function registerUserSetPassword(user: Command, rt: CommandRuntime): void {
  user
    .command('set-password')
    .description("replace a user's password; without --password-stdin one is generated and printed once")
    .argument('<login>')
    .option('--password-stdin', 'read the password from standard input')
    .option('--keep-sessions', 'keep what was signed in with the old password (by default its sessions and OIDC tokens end)')
    .action(async (login: string, opts: { passwordStdin?: boolean; keepSessions?: boolean }, cmd: Command) => {
      const password = opts.passwordStdin ? await rt.readStdin() : undefined;
      await rt.withContext(cmd, async (ctx) => {
        const changed = await ctx.usersAdmin.setPassword(login, password, { keepSessions: opts.keepSessions });
        const details = { login: changed.user.login, generated: changed.generated, providerRecords: changed.providerRecords };
        await recordCli(ctx.audit, rt.osUser, { action: 'user.password_set', target: { type: 'user', id: changed.user.id }, details });
        rt.out(`changed the password of ${changed.user.login} (${changed.user.id})\n`);
        if (!opts.keepSessions) rt.out(`ended what the old password signed in: ${changed.providerRecords} sessions, grants and tokens (personal access tokens stay)\n`);
        if (changed.generated) rt.out(`password: ${changed.password}\nThis password is shown once: keep it now.\n`);
        // The lock is separate on purpose (see UsersService.setPassword); say so rather than surprise.
        if (changed.user.locked) rt.out(`the account is still locked: run \`cells-auth admin user unlock ${changed.user.login}\`\n`);
      });
    });
}
