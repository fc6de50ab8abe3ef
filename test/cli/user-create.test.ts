import t from 'tap';
import { cliDatabase, runCli, withContextOf } from '../helpers/cli.ts';
import { dbKinds } from '../helpers/database.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

for (const kind of dbKinds()) {
  t.test(`admin user create [${kind}]`, async (t) => {
    const db = await cliDatabase(t, kind);

    const generated = await runCli(['admin', 'user', 'create', 'alice', '--email', 'alice@example.com', '--admin'], { env: db.env });
    t.equal(generated.code, 0, generated.stderr);
    t.equal(generated.stderr, '');
    t.match(generated.stdout, new RegExp(`^created user alice \\(${UUID}\\) with the admin role\\n`));
    const password = /^password: (\S+)$/m.exec(generated.stdout)?.[1] ?? '';
    t.equal(password.length, 24, 'a generated password is printed');
    t.equal(generated.stdout.split(password).length, 2, 'once');

    const piped = await runCli(['admin', 'user', 'create', 'bob', '--password-stdin'], { env: db.env, input: 'piped secret phrase\n' });
    t.equal(piped.code, 0, piped.stderr);
    t.notMatch(piped.stdout, /password/, 'a piped password is not printed back');

    const duplicate = await runCli(['admin', 'user', 'create', 'alice'], { env: db.env });
    t.equal(duplicate.code, 1, 'a duplicate login fails');
    t.equal(duplicate.stderr, 'cells-auth: a user with login "alice" already exists\n', 'with one line naming it');
    t.equal(duplicate.stdout, '', 'and prints no password');

    const bad = await runCli(['admin', 'user', 'create', 'eve', '--password-stdin'], { env: db.env, input: 'short' });
    t.equal(bad.code, 1);
    t.equal(bad.stderr, 'cells-auth: password: must be at least 8 characters\n');

    await withContextOf(db, async ({ users }) => {
      const alice = await users.findByLogin('alice');
      t.same(alice?.roles, ['admin']);
      t.equal(alice?.email, 'alice@example.com');
      t.ok((await users.authenticate('alice', password)).ok, 'the printed password signs in');
      t.ok((await users.authenticate('bob', 'piped secret phrase')).ok, 'the piped password (without its newline) signs in');
      t.notOk(await users.findByLogin('eve'), 'a refused command creates nothing');
    });
  });
}
