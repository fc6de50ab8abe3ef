import { createRequire } from 'node:module';

// tap loads @tapjs/processinfo into every test process and, through process-on-spawn, into every
// process a test spawns (NODE_OPTIONS=--import=…/processinfo/import.mjs): on Node 22 it registers
// an off-thread module loader that every import then goes through, for coverage and `tap --changed`,
// which this suite does not use. It doubled the CPU of each command the tests run (`cells-auth
// admin --help`: 0.65 -> 1.3 s). A listener after tap's takes it out of the processes our tests spawn.
interface SpawnOptions {
  env: Record<string, string | undefined>;
}
const onSpawn = createRequire(import.meta.url)('process-on-spawn') as { addListener(fn: (o: SpawnOptions) => void): void };
onSpawn.addListener((o) => {
  const options = o.env.NODE_OPTIONS?.replace(/"?--(?:import|loader)=\S*@tapjs\/processinfo\/\S*?"?(?=\s|$)/g, '').trim();
  if (options) o.env.NODE_OPTIONS = options;
  else delete o.env.NODE_OPTIONS;
  for (const k of Object.keys(o.env)) if (k.startsWith('_TAPJS_PROCESSINFO_')) delete o.env[k];
});
