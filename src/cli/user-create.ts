import type { Command } from 'commander';
import { recordCli } from '../audit/request-audit.ts';
import { readStdin, withContext } from './shared.ts';

export function registerUserCreate(user: Command): void {
  user
    .command('create')
    .description('create a user; without --password-stdin a password is generated and printed once')
    .argument('<login>')
    .option('--email <email>', 'e-mail address')
    .option('--name <name>', 'display name')
    .option('--admin', 'give the admin role')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (login: string, opts: { email?: string; name?: string; admin?: boolean; passwordStdin?: boolean }, cmd: Command) => {
      const password = opts.passwordStdin ? await readStdin() : undefined;
      await withContext(cmd, async (ctx) => {
        const created = await ctx.users.create({ login, email: opts.email, displayName: opts.name, admin: opts.admin, password });
        await recordCli(ctx.audit, {
          action: 'user.created',
          target: { type: 'user', id: created.user.id },
          details: { login: created.user.login, roles: created.user.roles, generated: created.generated },
        });
        process.stdout.write(`created user ${created.user.login} (${created.user.id})${opts.admin ? ' with the admin role' : ''}\n`);
        if (created.generated) process.stdout.write(`password: ${created.password}\nThis password is shown once: keep it now.\n`);
      });
    });
}
