import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { recordCli } from '../audit/request-audit.ts';

export function registerUserCreate(user: Command, rt: CommandRuntime): void {
  user
    .command('create')
    .description('create a user; without --password-stdin a password is generated and printed once')
    .argument('<login>')
    .option('--email <email>', 'e-mail address')
    .option('--name <name>', 'display name')
    .option('--admin', 'give the admin role')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (login: string, opts: { email?: string; name?: string; admin?: boolean; passwordStdin?: boolean }, cmd: Command) => {
      const password = opts.passwordStdin ? await rt.readStdin() : undefined;
      await rt.withContext(cmd, async (ctx) => {
        const created = await ctx.users.create({ login, email: opts.email, displayName: opts.name, admin: opts.admin, password });
        await recordCli(ctx.audit, rt.osUser, {
          action: 'user.created',
          target: { type: 'user', id: created.user.id },
          details: { login: created.user.login, roles: created.user.roles, generated: created.generated },
        });
        rt.out(`created user ${created.user.login} (${created.user.id})${opts.admin ? ' with the admin role' : ''}\n`);
        if (created.generated) rt.out(`password: ${created.password}\nThis password is shown once: keep it now.\n`);
      });
    });
}
