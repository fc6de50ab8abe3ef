// The TypeScript sources of `cells-auth start`, with their types stripped before the server
// process starts. Node strips types with amaro, a WebAssembly build of SWC that, once loaded, stays
// for the life of the process: ~15 MB of resident memory (its linear memory, compiled code and
// module bytes) in a server that strips nothing after start. `start` re-executes itself
// (src/process-tuning.ts): the process it replaces strips every source once and hands them over
// in a private temporary file; the server loads them from there, through a module hook, and never
// loads amaro. A source that changed in between (or is not in the file) is loaded as usual.
// Every other command keeps its stripped sources from one run to the next (useCommandCache).
// Plain JavaScript: loading this file must not itself need type stripping.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { enableCompileCache, registerHooks, stripTypeScriptTypes } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const STRIPPED_ENV = 'CELLS_AUTH_STRIPPED_SOURCES';
const ROOTS = ['src', 'migrations'].map((d) => fileURLToPath(new URL(`../${d}/`, import.meta.url)));
const ROOT_URLS = ROOTS.map((r) => pathToFileURL(r).href);

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

/**
 * stripTypeScriptTypes announces itself as experimental once per process: on a command's stderr
 * (one line, the reason of a refusal) or as the server's, it would read as ours.
 */
function strip(source) {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return stripTypeScriptTypes(source);
  } finally {
    process.emitWarning = emitWarning;
  }
}

function writeStrippedSources() {
  const sources = {};
  for (const root of ROOTS) {
    for (const path of typeScriptFiles(root)) {
      const source = readFileSync(path, 'utf8');
      sources[pathToFileURL(path).href] = { digest: digest(source), code: strip(source) };
    }
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

/**
 * A directory of this user's own for caches, made if need be: the code kept there is run, so not one
 * that anyone else can write to. Undefined when there is none (no home, a read-only one).
 */
function privateCacheDir() {
  try {
    const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cells-auth');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    return st.uid === process.getuid?.() && (st.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * For every command but `start`: each lives a second or two, and scripts (and the test suite) run
 * many, each stripping the same sources and compiling the same modules again. Both are kept in the
 * user's cache directory (~/.cache/cells-auth): V8's compiled code by Node's own compile cache, and
 * our sources' stripped text (which Node 22 does not cache) by their content digest, so a changed
 * source is stripped again. A command that finds everything kept never loads the type stripper.
 * Measured, averages of six runs, before -> after: `clients list` on Postgres 1.10 -> 0.78 s to
 * run (1.24 -> 0.91 s of CPU), on PGlite 1.32 -> 1.12-1.24 s (whose WebAssembly is compiled anew
 * each time: Node keeps no compiled WebAssembly), `--help` 0.72 -> 0.58 s. The test suite runs
 * hundreds of commands. Without a usable cache directory, commands run as before.
 */
export function useCommandCache() {
  const dir = privateCacheDir();
  if (!dir) return;
  enableCompileCache(join(dir, 'v8'));
  // One file per checkout (a developer may have several), named by where its sources are.
  const file = join(dir, `stripped-${digest(ROOT_URLS[0]).replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}.json`);
  let kept;
  try {
    kept = new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8'))));
  } catch {
    kept = new Map();
  }
  let added = false;
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.endsWith('.ts') || !ROOT_URLS.some((root) => url.startsWith(root))) return nextLoad(url, context);
      let source;
      let code;
      try {
        source = readFileSync(fileURLToPath(url), 'utf8');
        const entry = kept.get(url);
        const sum = digest(source);
        if (entry?.digest === sum) return { format: 'module', source: entry.code, shortCircuit: true };
        code = strip(source);
        kept.set(url, { digest: sum, code });
        added = true;
      } catch {
        return nextLoad(url, context); // Node says what is wrong with the file, as it would have
      }
      return { format: 'module', source: code, shortCircuit: true };
    },
  });
  process.once('exit', () => {
    if (!added) return;
    // Written whole and renamed into place: commands running side by side never read half a file.
    // Sources that are gone are dropped, so the file does not only grow.
    try {
      const tmp = `${file}.${process.pid}`;
      const live = [...kept].filter(([url]) => existsSync(fileURLToPath(url)));
      writeFileSync(tmp, JSON.stringify(Object.fromEntries(live)), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      // a cache: the next command strips again
    }
  });
}
