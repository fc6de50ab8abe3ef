import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// A fresh PGlite database runs initdb in WebAssembly first: 2.5–3 s of CPU, against ~0.5 s to
// load a copy of an initialised cluster. Tests build hundreds of fresh databases, so each starts
// from a copy of one cluster as initdb left it, the way Postgres's CREATE DATABASE copies a
// template. Only initdb is skipped: every test database still runs our migrations.
//
// The copy is made once per machine and PGlite version, kept in the temporary directory, and
// written under a temporary name then renamed, so that test files starting together never read
// half of one.

let file: Promise<string> | undefined;
let tarball: Promise<Blob> | undefined;

async function pgliteVersion(): Promise<string> {
  const pkg = new URL('../package.json', import.meta.resolve('@electric-sql/pglite'));
  return (JSON.parse(await readFile(pkg, 'utf8')) as { version: string }).version;
}

async function build(path: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create();
  const dump = Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer());
  await pglite.close();
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, dump);
  await rename(partial, path);
}

/** The template's file, built first if this machine has none for this PGlite version. */
function templateFile(): Promise<string> {
  file ??= (async () => {
    const dir = join(tmpdir(), 'cells-auth-test');
    await mkdir(dir, { recursive: true });
    const path = join(dir, `pglite-${await pgliteVersion()}-initdb.tar`);
    if (!existsSync(path)) await build(path);
    return path;
  })();
  return file;
}

/** The data directory of a freshly initialised PGlite cluster, as a tarball (PGlite's loadDataDir). */
export function pgliteTemplate(): Promise<Blob> {
  tarball ??= templateFile().then(async (path) => new Blob([await readFile(path)]));
  return tarball;
}

/**
 * Starts the PGlite data directory `dir` (which must not exist yet) from the template. Unpacked by
 * tar, not by PGlite: this process then need not compile PGlite's WebAssembly (~2 s of CPU).
 */
export async function seedPgliteDir(dir: string): Promise<void> {
  const path = await templateFile();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await promisify(execFile)('tar', ['--extract', '--file', path, '--directory', dir]);
}
