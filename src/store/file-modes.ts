import { chmodSync, mkdirSync, statSync } from 'node:fs';

/**
 * Owner-only files and directories for what Concierge stores. Raw webhook
 * bodies in the database hold buyers' names and e-mail addresses, and
 * backups are copies of it. The process umask (0077, set first thing by
 * `npm start` and the CLI) covers what Concierge creates; these helpers also
 * cover a file that already existed or was created by another path (a copy,
 * an older version, a tool run with a looser umask).
 */

/** The database file and the WAL and shared-memory files SQLite keeps next to it. */
export function listDatabaseFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

/** Creates `dir` (and missing parents) as 0700; an existing directory is left as it is. */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Removes group and other permissions from each existing file. A file owned
 * by another user cannot be changed by us (EPERM) and keeps its mode, which
 * is its owner's choice; `concierge doctor` warns about it.
 */
export function restrictToOwner(paths: readonly string[]): void {
  for (const path of paths) {
    const mode = readPermissions(path);
    if (mode === null || (mode & 0o077) === 0) continue;
    try {
      chmodSync(path, mode & 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }
}

/** The permission bits of `path` (e.g. 0o644), or null when it does not exist. */
export function readPermissions(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
