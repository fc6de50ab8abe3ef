import { readFileSync } from 'node:fs';
import t from 'tap';
import { SERVER_MALLOC_ENV, SERVER_NODE_FLAGS } from '../../src/process-tuning.ts';
import { freshDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/harness.ts';
import { startInstance } from '../helpers/instances.ts';

// `cells-auth start` runs with the memory settings the bench measured (src/process-tuning.ts),
// in the same process a supervisor started; an operator's own setting wins.
t.test('start re-executes itself with the server settings, keeping its process id', async (t) => {
  const db = await freshDatabase('postgres');
  t.teardown(() => db.drop());
  const env = { DATABASE_URL: db.url!, CELLS_AUTH_ADMIN_PASSWORD: 'first-admin-password' };

  const plain = await startInstance({ port: await freePort(), env });
  t.teardown(() => plain.stop());
  const args = readFileSync(`/proc/${plain.proc.pid}/cmdline`, 'utf8').split('\0');
  for (const flag of SERVER_NODE_FLAGS) t.ok(args.includes(flag), `${flag}, in the process spawned`);
  const environ = readFileSync(`/proc/${plain.proc.pid}/environ`, 'utf8').split('\0');
  for (const [k, v] of Object.entries(SERVER_MALLOC_ENV)) t.ok(environ.includes(`${k}=${v}`), `${k}=${v}`);
  t.equal((await fetch(`${plain.url}/healthz`)).status, 200, 'and it serves');

  const own = await startInstance({ port: await freePort(), env: { ...env, MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--max-old-space-size=512' } });
  t.teardown(() => own.stop());
  const ownArgs = readFileSync(`/proc/${own.proc.pid}/cmdline`, 'utf8');
  t.notOk(ownArgs.includes('--max-old-space-size=256'), 'the operator’s heap limit is kept');
  t.ok(readFileSync(`/proc/${own.proc.pid}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=4'), 'and their malloc setting');

  // A flag turned off on node's command line (V8 refuses this one in NODE_OPTIONS) stays off.
  const off = await startInstance({ port: await freePort(), env, nodeArgs: ['--no-single-threaded-gc'] });
  t.teardown(() => off.stop());
  const offArgs = readFileSync(`/proc/${off.proc.pid}/cmdline`, 'utf8').split('\0');
  t.ok(offArgs.includes('--no-single-threaded-gc'), 'the operator’s --no- flag is passed on');
  t.notOk(offArgs.includes('--single-threaded-gc'), 'and not overridden by ours');
  t.ok(offArgs.includes('--max-old-space-size=256'), 'while the other settings still apply');
});
