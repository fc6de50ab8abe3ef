import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

// `start` hands the server its sources already stripped (bin/stripped-sources.js), so that the server
// never loads Node's type stripper (amaro, ~15 MB resident). A process given them must load our
// modules without it, remove the hand-over file, and fall back to stripping for a changed source.

const run = promisify(execFile);
// Plain JavaScript, without type declarations: typed here for what the test uses.
const { STRIPPED_ENV, strippedSourcesHandOver } = (await import('../../bin/stripped-sources.js' as string)) as {
  STRIPPED_ENV: string;
  strippedSourcesHandOver(): Record<string, string>;
};
const HOOK = fileURLToPath(new URL('../../bin/stripped-sources.js', import.meta.url));
const MODULE = fileURLToPath(new URL('../../src/pat/token-format.ts', import.meta.url));

/** Loads a source in a fresh process (with or without a hand-over) and says whether amaro was loaded. */
async function loadIn(env: Record<string, string>, source = MODULE, use = 'useStrippedSources') {
  const script = `
    import { ${use} } from ${JSON.stringify(HOOK)};
    ${use}();
    const m = await import(${JSON.stringify(source)});
    console.log(JSON.stringify({ exports: Object.keys(m).length, amaro: process.moduleLoadList.some((l) => l.includes('amaro')) }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '', ...env } });
  return JSON.parse(stdout) as { exports: number; amaro: boolean };
}

t.test('a process given the stripped sources loads ours without the type stripper, and removes the file', async (t) => {
  const handOver = strippedSourcesHandOver();
  const file = handOver[STRIPPED_ENV];
  t.ok(file && existsSync(file), 'the sources were written');
  const given = await loadIn(handOver);
  t.ok(given.exports > 0, 'the module loaded');
  t.equal(given.amaro, false, 'without amaro');
  t.notOk(existsSync(file!), 'the hand-over file is gone');

  const plain = await loadIn({});
  t.equal(plain.amaro, true, 'without a hand-over, Node strips (so the check above can fail)');
});

t.test('a source that is not in the hand-over is stripped as usual', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stripped-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const other = join(dir, 'other.ts');
  writeFileSync(other, 'export const answer: number = 42;\n');
  const got = await loadIn(strippedSourcesHandOver(), other);
  t.equal(got.exports, 1);
  t.equal(got.amaro, true, 'Node stripped it');
});

// Every other command keeps what it stripped in the user's cache directory (with Node's compile
// cache beside it), so that the next one loads our sources without the stripper.
t.test('a command keeps the stripped sources for the next one, and strips a changed source again', async (t) => {
  const cacheHome = mkdtempSync(join(tmpdir(), 'stripped-cache-'));
  t.teardown(() => rmSync(cacheHome, { recursive: true, force: true }));
  const env = { XDG_CACHE_HOME: cacheHome };
  const first = await loadIn(env, MODULE, 'useCommandCache');
  t.ok(first.exports > 0, 'the module loaded');
  t.equal(first.amaro, true, 'the first command strips');
  const dir = join(cacheHome, 'cells-auth');
  const [file, ...more] = readdirSync(dir).filter((f) => f.startsWith('stripped-'));
  t.ok(file && more.length === 0, 'one file of stripped sources');
  t.ok(readdirSync(dir).includes('v8'), "Node's compile cache beside it");

  const second = await loadIn(env, MODULE, 'useCommandCache');
  t.equal(second.exports, first.exports);
  t.equal(second.amaro, false, 'the next command does not load the stripper');

  // As if the source had changed since: the kept text no longer matches it.
  const path = join(dir, file!);
  const kept = JSON.parse(readFileSync(path, 'utf8')) as Record<string, { digest: string; code: string }>;
  const url = Object.keys(kept).find((u) => u.endsWith('/src/pat/token-format.ts'))!;
  kept[url]!.digest = 'changed';
  writeFileSync(path, JSON.stringify(kept));
  const changed = await loadIn(env, MODULE, 'useCommandCache');
  t.equal(changed.amaro, true, 'a changed source is stripped again');
  t.not(JSON.parse(readFileSync(path, 'utf8'))[url].digest, 'changed', 'and kept again');
});

t.test('a cache directory others can write to is not used', async (t) => {
  const cacheHome = mkdtempSync(join(tmpdir(), 'stripped-cache-'));
  t.teardown(() => rmSync(cacheHome, { recursive: true, force: true }));
  const dir = join(cacheHome, 'cells-auth');
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const got = await loadIn({ XDG_CACHE_HOME: cacheHome }, MODULE, 'useCommandCache');
  t.ok(got.exports > 0, 'the module loaded, stripped as usual');
  t.same(readdirSync(dir), [], 'nothing was kept there');
});
