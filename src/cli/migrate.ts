import type { Command } from 'commander';
import { connectDatabase, targetFromConfig } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { configFor } from './shared.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the database migrations and exit')
    .action(async (_opts, cmd: Command) => {
      const db = await connectDatabase(targetFromConfig(configFor(cmd)));
      try {
        const applied = await migrateToLatest(db.db);
        process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'the database is up to date\n');
      } finally {
        await db.close();
      }
    });
}
