import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
async function loadIn(env: Record<string, string>, source = MODULE) {
  const script = `
    import { useStrippedSources } from ${JSON.stringify(HOOK)};
    useStrippedSources();
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
