import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import { recordCli } from '../audit/request-audit.ts';

export function registerKeys(program: Command, rt: CommandRuntime): void {
  const keys = program.command('keys').description('signing keys');
  keys
    .command('rotate')
    .description('promote the published next key to signing, retire the current one (SPEC §5)')
    .action(async (_opts, cmd: Command) => {
      await rt.withContext(cmd, async (ctx) => {
        const r = await ctx.keys.rotate();
        // Awaited: the context (and its database) closes as soon as this body returns.
        await recordCli(ctx.audit, rt.osUser, { action: 'keys.rotated', target: { type: 'signing_key', id: r.activated }, details: { ...r } });
        rt.out(`signing with ${r.activated}; next key ${r.next} is published${r.retired ? `; ${r.retired} stays published until its tokens expire` : ''}\n`);
      });
    });
  keys
    .command('list')
    .description('list signing keys and their state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await rt.withContext(cmd, async (ctx) => {
        const list = await ctx.keys.list();
        if (opts.json) rt.out(`${JSON.stringify(list, null, 2)}\n`);
        else for (const k of list) rt.out(`${k.kid}  ${k.alg}  ${k.state}${k.publishUntil ? `  published until ${k.publishUntil}` : ''}\n`);
      });
    });
}
