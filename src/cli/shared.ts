import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createContext, type AppContext } from '../context.ts';
import { createLogger } from '../util/logger.ts';

/** A failure the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export interface GlobalOptions {
  config?: string;
}

export function configFor(cmd: Command): Config {
  const { config } = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({ env: process.env, file: config });
}

/** Runs a command body with a context (database migrated, keys present), then closes it. */
export async function withContext<T>(cmd: Command, fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const config = configFor(cmd);
  // Commands print their own results; only real problems go to stderr as JSON lines.
  const ctx = await createContext(config, { log: createLogger('error', process.stderr as never), processMetrics: false });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

export function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) {
      reject(new CliError('expected the value on standard input (pipe it in)'));
      return;
    }
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c) => (data += c));
    process.stdin.on('end', () => resolve(data.replace(/\r?\n$/, '')));
    process.stdin.on('error', reject);
  });
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
