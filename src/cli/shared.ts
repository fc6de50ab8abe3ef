import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { LOCAL_CONFIG_FILE, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';

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

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
