import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { recordCli } from '../audit/request-audit.ts';

/** SPEC §3: repeated failed logins lock an account; this is how an operator lets its owner back in. */
export function registerUserUnlock(user: Command, rt: CommandRuntime): void {
  user
    .command('unlock')
    .description('unlock an account locked by repeated failed logins, and clear its failure count')
    .argument('<login>')
    .action(async (login: string, _opts, cmd: Command) => {
      await rt.withContext(cmd, async (ctx) => {
        const unlocked = await ctx.users.unlock(login);
        await recordCli(ctx.audit, rt.osUser, { action: 'user.unlocked', target: { type: 'user', id: unlocked.id }, details: { login: unlocked.login } });
        rt.out(`unlocked user ${unlocked.login} (${unlocked.id})\n`);
      });
    });
}
