import type { Command } from 'commander';
import { withContext } from './shared.ts';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys');
  keys
    .command('rotate')
    .description('promote the published next key to signing, retire the current one (SPEC §5)')
    .action(async (_opts, cmd: Command) => {
      await withContext(cmd, async (ctx) => {
        const r = await ctx.keys.rotate();
        void ctx.audit.record({ action: 'keys.rotated', details: { activated: r.activated, retired: r.retired, next: r.next } });
        process.stdout.write(`signing with ${r.activated}; next key ${r.next} is published${r.retired ? `; ${r.retired} stays published until its tokens expire` : ''}\n`);
      });
    });
  keys
    .command('list')
    .description('list signing keys and their state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withContext(cmd, async (ctx) => {
        const list = await ctx.keys.list();
        if (opts.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        else for (const k of list) process.stdout.write(`${k.kid}  ${k.alg}  ${k.state}${k.publishUntil ? `  published until ${k.publishUntil}` : ''}\n`);
      });
    });
}
