// Which command a command line names, read before anything else is loaded: bin/cells-auth.js
// decides from it whether this process is the server. Plain JavaScript, like the rest of bin/.

/**
 * The command's first word: the first argument that is neither an option nor the value of
 * -c/--config (the only option before a command). Not `argv.includes('start')`: a user, or a
 * settings file, may be called "start".
 */
export function commandName(args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-c' || arg === '--config') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}
