import type { Command } from 'commander';
import type { CommandRuntime } from './runtime.ts';
import type { ClientView } from '../clients/clients.schemas.ts';

function table(clients: ClientView[]): string {
  const rows = [
    ['ID', 'SOURCE', 'TYPE', 'CONSENT', 'PKCE', 'INTROSPECT', 'REDIRECT URIS'],
    ...clients.map((c) => [
      c.clientId,
      c.source,
      c.type,
      c.firstParty ? 'no (first-party)' : 'yes',
      c.pkceRequired ? 'required' : 'optional',
      c.introspect ? 'yes' : 'no',
      c.redirectUris.join(' ') || '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function registerClientsList(clients: Command, rt: CommandRuntime): void {
  clients
    .command('list')
    .description('every client: the defaults, the clients file, and those registered (marked by source)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await rt.withContext(cmd, async (ctx) => {
        const all = await ctx.clients.list();
        rt.out(opts.json ? `${JSON.stringify(all, null, 2)}\n` : table(all));
      });
    });
}
