import type { Command } from 'commander';
import type { AdminUser } from '../accounts/users.admin.service.ts';
import type { CommandRuntime } from './runtime.ts';
import { table, when } from './table.ts';

/** Rows per query while paging through every user. */
const PAGE = 500;

function rows(users: AdminUser[]): string[][] {
  return [
    ['LOGIN', 'ID', 'ROLES', 'LOCKED', 'FAILED', 'CREATED', 'E-MAIL'],
    ...users.map((u) => [u.login, u.id, u.roles.join(',') || '-', u.locked ? 'yes' : 'no', String(u.failedLogins), when(u.createdAt), u.email ?? '-']),
  ];
}

/** The command-line twin of `GET /a/admin/users`: every user, by login (all pages). */
export function registerUserList(user: Command, rt: CommandRuntime): void {
  user
    .command('list')
    .description('list users by login: roles, lock, failed sign-ins (never a password)')
    .option('--search <text>', 'only logins, e-mails and names containing this')
    .option('--json', 'print JSON')
    .action(async (opts: { search?: string; json?: boolean }, cmd: Command) => {
      await rt.withContext(cmd, async (ctx) => {
        const users: AdminUser[] = [];
        let cursor: string | undefined;
        do {
          const page = await ctx.usersAdmin.list({ search: opts.search, cursor, limit: PAGE });
          users.push(...page.users);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        if (opts.json) rt.out(`${JSON.stringify(users, null, 2)}\n`);
        else if (users.length === 0) rt.out(opts.search === undefined ? 'no users\n' : `no user matches "${opts.search}"\n`);
        else rt.out(`${table(rows(users))}\n`);
      });
    });
}
