import t from 'tap';

// bin/cells-auth.js decides from the command line, before loading anything, whether this process is
// the server (which re-executes itself with the server's settings) or a command (compiled cheaply).

// Plain JavaScript, without type declarations: typed here for what the test uses.
const { commandName } = (await import('../../bin/command-name.js' as string)) as { commandName(args: string[]): string | undefined };

t.equal(commandName(['start']), 'start');
t.equal(commandName(['-c', 'site.yaml', 'start']), 'start', 'after -c FILE');
t.equal(commandName(['--config', 'site.yaml', 'start']), 'start', 'after --config FILE');
t.equal(commandName(['--config=site.yaml', 'start']), 'start', 'after --config=FILE');
t.equal(commandName(['admin', 'user', 'create', 'start']), 'admin', 'a user called "start" is not the server');
t.equal(commandName(['--config', 'start', 'migrate']), 'migrate', 'nor is a settings file called "start"');
t.equal(commandName(['--help']), undefined, 'no command');
t.equal(commandName([]), undefined);
