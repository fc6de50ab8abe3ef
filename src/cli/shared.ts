import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { LOCAL_CONFIG_FILE, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { CoreContext } from '../core-context.ts';
import { createLogger } from '../util/logger.ts';

/** A failure the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export interface GlobalOptions {
  config?: string;
}

/**
 * The settings file over config/default.yaml: --config, else CELLS_AUTH_CONFIG, else config/local.yaml
 * (where `config tls` writes) when it exists.
 */
export function settingsFile(cmd: Command, env: Record<string, string | undefined> = process.env): { file: string; named: boolean } {
  const named = cmd.optsWithGlobals<GlobalOptions>().config || env.CELLS_AUTH_CONFIG;
  return named ? { file: named, named: true } : { file: LOCAL_CONFIG_FILE, named: false };
}

export function configFor(cmd: Command): Config {
  const { file, named } = settingsFile(cmd);
  // A named file that is missing is an error (loadConfig says so); the local file is optional.
  return loadConfig({ env: process.env, file: named || existsSync(file) ? file : undefined });
}

/**
 * Runs a command body with the core context (database migrated, keys present), then closes it. The
 * database and services load here, when a command runs: not for `--help`, a usage error or `config`.
 */
export async function withContext<T>(cmd: Command, fn: (ctx: CoreContext) => Promise<T>): Promise<T> {
  const config = configFor(cmd);
  const { createCoreContext } = await import('../core-context.ts');
  // Commands print their own results; only real problems go to stderr as JSON lines.
  const ctx = await createCoreContext(config, { log: createLogger('error', process.stderr as never) });
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
