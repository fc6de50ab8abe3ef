import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { CoreContext } from '../core-context.ts';
import { DatabaseLockedError } from '../db/pglite-lock.ts';
import { createLogger } from '../util/logger.ts';
import { controlSocketPath } from './control-socket.ts';
import { CliError, configFor } from './shared.ts';

// Where a command reads and writes, and where its database comes from. A command run in a shell
// has the process's (processRuntime); one a running server executes for a shell (control-socket.ts)
// has the server's context and hands its output back.

/** What the commands use of a context: the services (the server's context has the same). */
export type CommandContext = Pick<CoreContext, 'users' | 'usersAdmin' | 'clients' | 'keys' | 'pats' | 'audit'>;

export interface CommandRuntime {
  out(text: string): void;
  err(text: string): void;
  /** Standard input as one string (for --password-stdin, --secret-stdin), without its final newline. */
  readStdin(): Promise<string>;
  /** The operating-system user the command is run by, for the audit trail (null when it has no name). */
  osUser: string | null;
  /** Runs a command body with a context (database migrated, keys present). */
  withContext<T>(cmd: Command, fn: (ctx: CommandContext) => Promise<T>): Promise<T>;
}

/**
 * The command needs the embedded database, which a running server holds: main.ts sends it to that
 * server (with what was read from standard input) instead.
 */
export class RunOnServer extends Error {
  override name = 'RunOnServer';
  readonly socketPath: string;
  readonly locked: DatabaseLockedError;
  constructor(socketPath: string, locked: DatabaseLockedError) {
    super(locked.message);
    this.socketPath = socketPath;
    this.locked = locked;
  }
}

/** A command that reads standard input, run with none piped in (a terminal, or a shell that sent none). */
export const noStdin = () => new CliError('expected the value on standard input (pipe it in)');

function currentOsUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): the trail still says it came from the CLI.
    return null;
  }
}

/** The runtime of a command run in a shell. `stdinRead()` is what readStdin() read, for forwarding. */
export function processRuntime(): CommandRuntime & { stdinRead(): string | null } {
  let stdin: string | null = null;
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdinRead: () => stdin,
    readStdin() {
      return new Promise((resolve, reject) => {
        if (process.stdin.isTTY) {
          reject(noStdin());
          return;
        }
        let data = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (c) => (data += c));
        process.stdin.on('end', () => resolve((stdin = data.replace(/\r?\n$/, ''))));
        process.stdin.on('error', reject);
      });
    },
    osUser: currentOsUser(),
    async withContext(cmd, fn) {
      const config = configFor(cmd);
      // The database and services load here, when a command runs: not for --help or a usage error.
      const { createCoreContext } = await import('../core-context.ts');
      let ctx: CoreContext;
      try {
        // Commands print their own results; only real problems go to stderr as JSON lines.
        ctx = await createCoreContext(config, { log: createLogger('error', process.stderr as never) });
      } catch (err) {
        // Held by a running server: main.ts asks it to run the command.
        if (err instanceof DatabaseLockedError && err.pid !== null) throw new RunOnServer(controlSocketPath(err.dir), err);
        throw err;
      }
      try {
        return await fn(ctx);
      } finally {
        await ctx.close();
      }
    },
  };
}
