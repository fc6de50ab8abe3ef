import type { Logger } from 'pino';
import { controlSocketPath, serveCommands, type CommandRequest, type CommandResult } from './control-socket.ts';
import { run } from './program.ts';
import { noStdin, type CommandContext, type CommandRuntime } from './runtime.ts';

// `cells-auth start` on the embedded database: the operator commands that a shell cannot run while
// this server holds the database, run here with the server's own services. Only those: `start`,
// `migrate`, `config` and `openapi` touch files or processes, not the services, and never come here.

const OPERATOR_COMMANDS = new Set(['admin', 'clients', 'keys']);

/** Runs one command sent by a shell, with this server's services; its output is the result. */
export async function runForShell(ctx: CommandContext, request: CommandRequest): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  const rt: CommandRuntime = {
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    async readStdin() {
      if (request.stdin === null) throw noStdin();
      return request.stdin;
    },
    osUser: request.osUser,
    // The server's context: built once, closed when the server stops.
    withContext: (_cmd, fn) => fn(ctx),
  };
  const code = await run(['node', 'cells-auth', ...request.argv], rt, {
    allow: (path) => (OPERATOR_COMMANDS.has(path[0]!) ? undefined : `\`${path.join(' ')}\` is not run by the server: stop it first`),
  });
  return { code, stdout, stderr };
}

/** Listens for the shell's commands beside the database files in `pgliteDir`. */
export function serveOperatorCommands(opts: { ctx: CommandContext; pgliteDir: string; log: Logger }) {
  return serveCommands({
    path: controlSocketPath(opts.pgliteDir),
    log: opts.log,
    execute: (request) => runForShell(opts.ctx, request),
  });
}
