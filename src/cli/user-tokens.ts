import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { formatDuration } from '../pat/duration.ts';
import type { PatView } from '../pat/pat.service.ts';
import { CliError } from './shared.ts';
import { table, when } from './table.ts';

function rows(tokens: PatView[]): string[][] {
  return [
    ['ID', 'LABEL', 'STATUS', 'EXPIRES', 'AUTO', 'HARD EXPIRY', 'LAST USED', 'SCOPES'],
    ...tokens.map((p) => [
      p.id,
      p.label || '-',
      p.status,
      when(p.status === 'revoked' ? p.revokedAt : p.currentExpiry),
      p.autoRefreshSeconds ? formatDuration(p.autoRefreshSeconds) : '-',
      when(p.expiresAt),
      p.lastUsedAt ? `${when(p.lastUsedAt)}${p.lastUsedFrom ? ` from ${p.lastUsedFrom}` : ''}` : 'never',
      p.scopes.join(',') || 'all',
    ]),
  ];
}

/** SPEC §10: `cells-auth admin user tokens -u LOGIN [--json]`; never the secrets (they are not kept). */
export function registerUserTokens(user: Command, rt: CommandRuntime): void {
  user
    .command('tokens')
    .description("list a user's personal access tokens")
    .requiredOption('-u, --user <login>', 'the user')
    .option('--json', 'print JSON')
    .action(async (opts: { user: string; json?: boolean }, cmd: Command) => {
      await rt.withContext(cmd, async (ctx) => {
        const owner = await ctx.users.findByLogin(opts.user);
        if (!owner) throw new CliError(`no user with login "${opts.user}"`);
        const tokens = await ctx.pats.list(owner.id);
        if (opts.json) rt.out(`${JSON.stringify(tokens, null, 2)}\n`);
        else if (tokens.length === 0) rt.out(`${opts.user} has no personal access tokens\n`);
        else rt.out(`${table(rows(tokens))}\n`);
      });
    });
}
