import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { formatDuration } from '../pat/duration.ts';
import { parseTokenRequest, type TokenRequest } from '../pat/token-request.ts';
import { recordCli } from '../audit/request-audit.ts';
import { asFlagError, rfc850 } from './pat-output.ts';
import { CliError, collect } from './shared.ts';

interface Options {
  user: string;
  expire?: string;
  auto?: string;
  scope: string[];
  label: string;
  quiet?: boolean;
}

function expirySentence(name: string, request: TokenRequest, pat: { currentExpiry: string; expiresAt: string | null }): string {
  const current = rfc850(new Date(pat.currentExpiry));
  if (request.windowSeconds === null) return `This token for ${name} will expire on ${current}.`;
  const cap = pat.expiresAt ? `, up to ${rfc850(new Date(pat.expiresAt))}` : '';
  return `This token for ${name} will expire on ${current} unless it is automatically refreshed (each use extends it by ${formatDuration(request.windowSeconds)}${cap}).`;
}

/** SPEC §6.1: `cells-auth admin user token -u LOGIN [-e DURATION] [-a WINDOW] [-s SCOPE]... [-q] [-l LABEL]`. */
export function registerUserToken(user: Command, rt: CommandRuntime): void {
  user
    .command('token')
    .description('mint a personal access token for a user; it is printed once')
    .requiredOption('-u, --user <login>', 'the user the token acts for')
    .option('-e, --expire <duration>', 'hard expiry: a Go duration or days (30s, 90m, 24h, 1h30m, 28d)')
    .option('-a, --auto <window>', 'sliding window: seconds (600) or a duration (10m); each use moves the expiry to now + window')
    .option('-s, --scope <scope>', 'limit to a node: node:NODE_UUID:PERM, PERM r, w or rw (repeatable, or comma-separated)', collect, [])
    .option('-l, --label <label>', 'a label to recognise the token by', 'Command generated token')
    .option('-q, --quiet', 'print the token alone (for scripts)')
    .action(async (opts: Options, cmd: Command) => {
      // Checked before the database is opened: a typo costs nothing.
      if (!opts.expire && !opts.auto) throw new CliError('give a hard expiry (-e), a sliding window (-a), or both');
      let request: TokenRequest;
      try {
        request = parseTokenRequest({ expire: opts.expire, auto: opts.auto, scopes: opts.scope });
      } catch (err) {
        throw asFlagError(err);
      }
      await rt.withContext(cmd, async (ctx) => {
        const owner = await ctx.users.findByLogin(opts.user);
        if (!owner) throw new CliError(`no user with login "${opts.user}"`);
        const { token, pat } = await ctx.pats.mint({ owner, request, label: opts.label, createdBy: null, createdVia: 'cli' });
        await recordCli(ctx.audit, rt.osUser, {
          action: 'token.minted',
          target: { type: 'token', id: pat.id },
          details: { owner: { id: owner.id, login: owner.login }, label: pat.label, scopes: pat.scopes, expiresAt: pat.expiresAt, autoRefreshSeconds: pat.autoRefreshSeconds },
        });
        if (opts.quiet) {
          rt.out(`${token}\n`);
          return;
        }
        rt.out(
          [
            `✔ ${expirySentence(owner.display_name || owner.login, request, pat)}`,
            `✔ ${token}`,
            '',
            '⚠ Make sure to secure it as it grants access to the user resources!',
            '',
          ].join('\n'),
        );
      });
    });
}
