import { Command, CommanderError } from 'commander';
import { registerClientCreate } from './client-create.ts';
import { registerClientsList } from './clients-list.ts';
import { registerKeys } from './keys-rotate.ts';
import { registerConfigTls } from './config-tls.ts';
import { registerMigrate } from './migrate.ts';
import { registerOpenapi } from './openapi.ts';
import { CliError } from './shared.ts';
import { registerStart } from './start.ts';
import { registerTokenRevoke } from './token-revoke.ts';
import { registerUserCreate } from './user-create.ts';
import { registerUserToken } from './user-token.ts';
import { registerUserTokens } from './user-tokens.ts';
import { registerUserSetPassword } from './user-set-password.ts';
import { registerUserUnlock } from './user-unlock.ts';

// One executable, one file per command (SPEC §10). Every failure: one line on stderr, exit 1.

export function buildProgram(): Command {
  const program = new Command('cells-auth')
    .description('OAuth2 / OpenID Connect authorization server for Pydio Cells clients')
    .option('-c, --config <file>', 'settings file overriding config/default.yaml (or CELLS_AUTH_CONFIG)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerStart(program);
  registerMigrate(program);
  registerKeys(program);
  registerOpenapi(program);

  const admin = program.command('admin').description('operator commands');
  const user = admin.command('user').description('users and their tokens');
  registerUserCreate(user);
  registerUserToken(user);
  registerUserTokens(user);
  const token = admin.command('token').description('personal access tokens');
  registerTokenRevoke(token);
  registerUserUnlock(user);
  registerUserSetPassword(user);
  registerClientCreate(admin.command('client').description("operators' clients"));
  registerClientsList(program.command('clients').description('all clients'));

  const config = program.command('config').description('change settings files');
  registerConfigTls(config);
  return program;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.trim();
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version requests end here too, with exit code 0; commander printed the rest.
      return err.exitCode;
    }
    process.stderr.write(`cells-auth: ${oneLine(err)}\n`);
    if (!(err instanceof CliError) && process.env.CELLS_AUTH_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

const code = await run(process.argv);
// `start` keeps running; every other command ends here.
if (code !== 0 || !process.argv.includes('start')) process.exitCode = code;
if (code !== 0) process.exit(code);
