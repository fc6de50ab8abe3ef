import { Command, CommanderError } from 'commander';
import { registerClientCreate } from './client-create.ts';
import { registerClientsList } from './clients-list.ts';
import { registerKeys } from './keys-rotate.ts';
import { registerConfigTls } from './config-tls.ts';
import { registerMigrate } from './migrate.ts';
import { registerOpenapi } from './openapi.ts';
import { RunOnServer, type CommandRuntime } from './runtime.ts';
import { CliError } from './shared.ts';
import { registerStart } from './start.ts';
import { registerTokenRevoke } from './token-revoke.ts';
import { registerUserCreate } from './user-create.ts';
import { registerUserDelete } from './user-delete.ts';
import { registerUserList } from './user-list.ts';
import { registerUserLock } from './user-lock.ts';
import { registerUserToken } from './user-token.ts';
import { registerUserTokens } from './user-tokens.ts';
import { registerUserSetPassword } from './user-set-password.ts';
import { registerUserUnlock } from './user-unlock.ts';

// One executable, one file per command (SPEC §10). Every failure: one line on stderr, exit 1. The
// runtime says where a command's input, output and database come from (runtime.ts): the shell's,
// or a running server's for a command it runs on a shell's behalf (control-socket.ts).

export function buildProgram(rt: CommandRuntime): Command {
  const program = new Command('cells-auth')
    .description('OAuth2 / OpenID Connect authorization server for Pydio Cells clients')
    .option('-c, --config <file>', 'settings file overriding config/default.yaml (or CELLS_AUTH_CONFIG)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: rt.out, writeErr: rt.err })
    .exitOverride();
  registerStart(program);
  registerMigrate(program);
  registerKeys(program, rt);
  registerOpenapi(program);

  const admin = program.command('admin').description('operator commands');
  const user = admin.command('user').description('users and their tokens');
  registerUserCreate(user, rt);
  registerUserToken(user, rt);
  registerUserTokens(user, rt);
  const token = admin.command('token').description('personal access tokens');
  registerTokenRevoke(token, rt);
  registerUserList(user, rt);
  registerUserLock(user, rt);
  registerUserUnlock(user, rt);
  registerUserSetPassword(user, rt);
  registerUserDelete(user, rt);
  registerClientCreate(admin.command('client').description("operators' clients"), rt);
  registerClientsList(program.command('clients').description('all clients'), rt);

  const config = program.command('config').description('change settings files');
  registerConfigTls(config);
  return program;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.trim();
}

export interface RunOptions {
  /** A command that needs the database a running server holds: how to have that server run it. */
  runOnServer?(held: RunOnServer): Promise<number>;
  /** Refuses a command before its action runs (a server runs only the operator commands). */
  allow?(path: string[]): string | undefined;
}

/** The names from the program down to the command that runs (`admin user create`). */
function pathOf(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

export async function run(argv: string[], rt: CommandRuntime, options: RunOptions = {}): Promise<number> {
  const program = buildProgram(rt);
  if (options.allow) {
    program.hook('preAction', (_program, action) => {
      const refusal = options.allow!(pathOf(action));
      if (refusal) throw new CliError(refusal);
    });
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version requests end here too, with exit code 0; commander printed the rest.
      return err.exitCode;
    }
    if (err instanceof RunOnServer && options.runOnServer) return options.runOnServer(err);
    rt.err(`cells-auth: ${oneLine(err)}\n`);
    if (!(err instanceof CliError) && process.env.CELLS_AUTH_DEBUG) rt.err(`${(err as Error).stack}\n`);
    return 1;
  }
}


