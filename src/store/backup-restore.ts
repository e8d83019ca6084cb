import { closeSync, constants, copyFileSync, existsSync, fsyncSync, openSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ensurePrivateDirectory, listDatabaseFiles } from './file-modes.ts';
import { removeDatabaseFiles, restrictBackupFile } from './backup-file.ts';

/**
 * The file moves of `concierge restore` (app/restore.ts decides when): copy
 * the backup next to the database, set the current database aside, put the
 * copy in its place. Renames within one directory, so each step is atomic
 * and a crash leaves either the old or the new database under the name.
 */

/** Where the backup is copied and checked before it replaces anything. */
export function stagedRestorePath(databasePath: string): string {
  return `${databasePath}.restoring`;
}

/** Copies `file` to the staging path (owner-only, flushed to disk); returns that path. */
export function stageRestoreCopy(file: string, databasePath: string): string {
  const staged = stagedRestorePath(databasePath);
  ensurePrivateDirectory(dirname(resolve(databasePath)));
  removeDatabaseFiles(staged);
  copyFileSync(file, staged, constants.COPYFILE_EXCL);
  restrictBackupFile(staged);
  syncPath(staged);
  return staged;
}

/**
 * Renames the current database and its -wal and -shm files to
 * `<database>.before-restore-<stamp>` (+ `-wal`, `-shm`): SQLite pairs a WAL
 * with its database by name, so the set stays a consistent database holding
 * every commit, even after a crash. Returns the new names; none when there
 * is no database yet.
 */
export function setDatabaseAside(databasePath: string, stamp: string): string[] {
  const aside = `${databasePath}.before-restore-${stamp}`;
  const moved: string[] = [];
  for (const [i, file] of listDatabaseFiles(databasePath).entries()) {
    if (!existsSync(file)) continue;
    const target = listDatabaseFiles(aside)[i] ?? aside;
    renameSync(file, target);
    moved.push(target);
  }
  if (moved.length > 0) syncPath(dirname(resolve(databasePath)));
  return moved;
}

/** Puts the checked copy in place under the database's name. */
export function installStagedDatabase(staged: string, databasePath: string): void {
  renameSync(staged, databasePath);
  syncPath(dirname(resolve(databasePath)));
}

/** fsync of a file or directory: the data, and a rename, reach the disk before the next step. */
function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
