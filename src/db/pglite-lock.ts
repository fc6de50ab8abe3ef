import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
  /** The data directory held. */
  readonly dir: string;
  /** The process holding it, when known. */
  readonly pid: number | null;
  constructor(message: string, dir: string, pid: number | null) {
    super(message);
    this.dir = dir;
    this.pid = pid;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process's database: a second process opening the same files would corrupt them. A
 * lock file with the owner's pid keeps a CLI command off a running server's data (a stale lock, whose
 * process is gone, is taken over).
 */
export function lockPgliteDir(dir: string): () => void {
  const file = join(dir, 'cells-auth.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DatabaseLockedError(
          `the embedded database in ${dir} is in use by process ${pid}; stop it first, or run against Postgres (DATABASE_URL)`,
          dir,
          pid,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new DatabaseLockedError(`cannot lock the embedded database in ${dir}`, dir, null);
}
