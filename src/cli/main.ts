import { NoServerError, sendCommand } from './control-socket.ts';
import { run } from './program.ts';
import { processRuntime, type RunOnServer } from './runtime.ts';

// The process entry of every command: the shell's runtime; a command that needs the embedded
// database while a server holds it is run by that server (control-socket.ts).

const rt = processRuntime();

async function runOnServer(held: RunOnServer): Promise<number> {
  let result;
  try {
    result = await sendCommand(held.socketPath, { argv: process.argv.slice(2), stdin: rt.stdinRead(), osUser: rt.osUser });
  } catch (err) {
    // No server listening there (another command holds the database, or an older server): as before.
    if (err instanceof NoServerError) rt.err(`cells-auth: ${held.locked.message}\n`);
    else rt.err(`cells-auth: the server holding ${held.locked.dir} did not answer (${(err as Error).message}); the command may or may not have run\n`);
    return 1;
  }
  rt.out(result.stdout);
  rt.err(result.stderr);
  return result.code;
}

const code = await run(process.argv, rt, { runOnServer });
// `start` keeps running (its code is 0 once it serves); every other command ends here.
process.exitCode = code;
if (code !== 0) process.exit(code);
