import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';

// An operator command builds the core context only (core-context.ts): loading the provider, the
// web app and the metrics too took half of every command's start (1.3 -> 0.9 s of CPU for
// `clients list`). One static import in the wrong file brings them back; this names it.

const SERVING_ONLY = ['oidc-provider', 'fastify', '@fastify/', 'prom-client', 'koa'];
const CLI_DIR = fileURLToPath(new URL('../../src/cli/', import.meta.url));

/** The packages loaded when these modules are imported (main.ts is left out: importing it runs the program). */
function packagesLoadedBy(modules: string[]): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const packages = new Set();
    registerHooks({
      resolve(specifier, context, next) {
        const resolved = next(specifier, context);
        const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(resolved.url);
        if (m) packages.add(m[1]);
        return resolved;
      },
    });
    for (const m of ${JSON.stringify(modules)}) await import(m);
    process.stdout.write(JSON.stringify([...packages].sort()));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  return JSON.parse(out) as string[];
}

t.test('the operator commands and their context load neither the provider nor the web app', async (t) => {
  const commands = readdirSync(CLI_DIR)
    .filter((f) => f.endsWith('.ts') && f !== 'main.ts')
    .map((f) => pathToFileURL(CLI_DIR + f).href);
  t.ok(commands.length >= 10, 'every command module is imported');
  const loaded = packagesLoadedBy([new URL('../../src/core-context.ts', import.meta.url).href, ...commands]);
  t.ok(loaded.includes('kysely') && loaded.includes('commander'), 'the check sees packages load');
  t.same(loaded.filter((p) => SERVING_ONLY.some((s) => p === s || p.startsWith(s))), [], 'no serving-only package');
});

t.test('the server context does load them (the check can fail)', async (t) => {
  const loaded = packagesLoadedBy([new URL('../../src/context.ts', import.meta.url).href]);
  t.ok(loaded.includes('oidc-provider'), 'oidc-provider');
});
