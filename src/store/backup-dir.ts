import { linkSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDirectory } from './file-modes.ts';

/**
 * BACKUP_DIR: one file per good backup, named by the UTC time it was taken
 * (`concierge-2025-01-31T03-00-00.000Z.db`, so names sort by time), and the
 * hidden temporary file of a backup in progress. Only names of this shape
 * are ever listed or deleted: the directory may hold the operator's files.
 */

const PREFIX = 'concierge-';
const SUFFIX = '.db';
const NAME = /^concierge-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z)\.db$/;

export interface BackupFile {
  name: string;
  path: string;
  /** When it was taken (from its name), ms epoch. */
  takenAt: number;
  bytes: number;
}

/** The file name for a backup taken at `at`: its UTC time with `-` for `:` (portable file names). */
export function backupFileName(at: number): string {
  return `${PREFIX}${new Date(at).toISOString().replace(/:/g, '-')}${SUFFIX}`;
}

/** Where a backup is written before it has been checked; a crash leaves at most this file behind. */
export function partialBackupPath(dir: string, name: string): string {
  return join(dir, `.${name}.partial`);
}

/** Creates BACKUP_DIR owner-only when missing. */
export function prepareBackupDir(dir: string): void {
  ensurePrivateDirectory(dir);
}

/** The good backups in `dir`, newest first; an empty list when the directory does not exist. */
export function listBackups(dir: string): BackupFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .flatMap((name) => {
      const m = NAME.exec(name);
      if (m === null || m[1] === undefined) return [];
      const takenAt = Date.parse(m[1].replace(/T(\d{2})-(\d{2})-(\d{2})/, 'T$1:$2:$3'));
      const path = join(dir, name);
      return Number.isNaN(takenAt) ? [] : [{ name, path, takenAt, bytes: statSync(path).size }];
    })
    .sort((a, b) => b.takenAt - a.takenAt);
}

/**
 * Gives a checked backup its final name; returns its path. A hard link, so
 * an existing backup of the same name (two backups in one millisecond) is
 * never overwritten: that fails with EEXIST instead.
 */
export function publishBackup(dir: string, name: string): string {
  const partial = partialBackupPath(dir, name);
  const final = join(dir, name);
  linkSync(partial, final);
  unlinkSync(partial);
  return final;
}

/**
 * Deletes all but the newest `keep` backups, never `justWritten` (after a
 * clock step back its name sorts below older ones); returns the deleted ones.
 * Partial files of crashed runs go too once a day old (by the file system's
 * clock, like their mtime: a younger one may belong to a backup running now).
 */
export function pruneBackups(dir: string, keep: number, justWritten: string): BackupFile[] {
  const all = listBackups(dir);
  const kept = new Set([justWritten, ...all.filter((b) => b.name !== justWritten).slice(0, Math.max(0, keep - 1)).map((b) => b.name)]);
  const extra = all.filter((b) => !kept.has(b.name));
  for (const b of extra) rmSync(b.path, { force: true });
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`.${PREFIX}`) || !name.endsWith('.partial')) continue;
    const path = join(dir, name);
    if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { force: true });
  }
  return extra;
}
