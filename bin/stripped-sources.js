// The TypeScript sources of `cells-auth start`, with their types stripped before the server
// process starts. Node strips types with amaro, a WebAssembly build of SWC that, once loaded, stays
// for the life of the process: ~15 MB of resident memory (its linear memory, compiled code and
// module bytes) in a server that strips nothing after start. `start` re-executes itself
// (src/process-tuning.ts): the process it replaces strips every source once and hands them over
// in a private temporary file; the server loads them from there, through a module hook, and never
// loads amaro. A source that changed in between (or is not in the file) is loaded as usual.
// Plain JavaScript: loading this file must not itself need type stripping.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const STRIPPED_ENV = 'CELLS_AUTH_STRIPPED_SOURCES';
const ROOTS = ['src', 'migrations'].map((d) => fileURLToPath(new URL(`../${d}/`, import.meta.url)));

const digest = (source) => createHash('sha256').update(source).digest('base64');

function* typeScriptFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typeScriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/**
 * Strips every source and writes them to a new private file: the environment that hands it over,
 * or none when it cannot be written (a read-only /tmp): the server then strips as usual.
 */
export function strippedSourcesHandOver() {
  try {
    return { [STRIPPED_ENV]: writeStrippedSources() };
  } catch {
    return {};
  }
}

function writeStrippedSources() {
  // stripTypeScriptTypes announces itself as experimental once per process; this process is about
  // to be replaced, and the warning would read as the server's.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  const sources = {};
  try {
    for (const root of ROOTS) {
      for (const path of typeScriptFiles(root)) {
        const source = readFileSync(path, 'utf8');
        sources[pathToFileURL(path).href] = { digest: digest(source), code: stripTypeScriptTypes(source) };
      }
    }
  } finally {
    process.emitWarning = emitWarning;
  }
  // mkdtemp: a new directory only this user can enter, so no one else can put code there.
  const dir = mkdtempSync(join(tmpdir(), 'cells-auth-'));
  const file = join(dir, 'sources.json');
  writeFileSync(file, JSON.stringify(sources), { mode: 0o600 });
  return file;
}

/** In the server process: serves the handed-over sources (and removes the file). */
export function useStrippedSources() {
  const file = process.env[STRIPPED_ENV];
  if (!file) return;
  delete process.env[STRIPPED_ENV];
  let sources;
  try {
    sources = new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8'))));
  } catch {
    return;
  } finally {
    rmSync(join(file, '..'), { recursive: true, force: true });
  }
  registerHooks({
    load(url, context, nextLoad) {
      const entry = sources.get(url);
      if (!entry) return nextLoad(url, context);
      sources.delete(url);
      const source = readFileSync(fileURLToPath(url), 'utf8');
      if (digest(source) !== entry.digest) return nextLoad(url, context);
      return { format: 'module', source: entry.code, shortCircuit: true };
    },
  });
}
