import { ConciergeError } from '../errors.ts';
import { backupJob } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import { backupFileName, listBackups, partialBackupPath, prepareBackupDir, publishBackup, pruneBackups, type BackupFile } from '../store/backup-dir.ts';
import { checkDatabaseFile, copyDatabaseOnline, readAppliedMigrations, removeDatabaseFiles, restrictBackupFile, type CopyProgress } from '../store/backup-file.ts';
import type { Store } from '../store/db.ts';
import { recordAudit } from './audit.ts';
import { BACKUP_HOUR_UTC, nextDailyAt, queueNextRun } from './schedules.ts';

/**
 * Online backups (SPEC "Operations"): a copy of the live database into
 * BACKUP_DIR that counts only once checked, then retention. Used by
 * `concierge backup` and by the daily scheduled job.
 */

export interface BackupSettings {
  dir: string;
  /** How many good backups to keep (BACKUP_RETENTION). */
  retention: number;
}

export type BackupStep = { kind: 'copy'; progress: CopyProgress } | { kind: 'check' };

export interface BackupResult {
  file: BackupFile;
  pages: number;
  /** Times the copy started over because the service wrote meanwhile. */
  restarts: number;
  /** Older backups deleted by retention. */
  pruned: BackupFile[];
}

/**
 * Copies the database open in `store` to `<dir>/concierge-<UTC time>.db`
 * (mode 0600). The copy is written under a hidden temporary name, checked
 * (SQLite's integrity check; the same migrations as the database it copies),
 * and only then given its name; a copy that fails the check is deleted and
 * the error says why. Then all but the newest `retention` backups go.
 * Retention runs only after a good backup: a failing disk never deletes the
 * last good ones.
 */
export async function takeBackup(store: Store, settings: BackupSettings, now: number, onStep?: (s: BackupStep) => void): Promise<BackupResult> {
  const name = backupFileName(now);
  const partial = partialBackupPath(settings.dir, name);
  let copied: CopyProgress;
  try {
    prepareBackupDir(settings.dir);
    removeDatabaseFiles(partial);
    copied = await copyDatabaseOnline(store.sqlite, partial, (progress) => onStep?.({ kind: 'copy', progress }));
  } catch (err) {
    removeDatabaseFiles(partial);
    throw new ConciergeError('backup_copy_failed', `backup into ${settings.dir} failed: ${err instanceof Error ? err.message : String(err)}`, { retry: true, cause: err });
  }
  onStep?.({ kind: 'check' });
  const source = readAppliedMigrations(store.sqlite) ?? [];
  const check = checkDatabaseFile(partial);
  const problem = !check.ok ? check.problem : check.migrations.length !== source.length ? `it has ${check.migrations.length} migrations, the database ${source.length}` : null;
  if (problem !== null) {
    removeDatabaseFiles(partial);
    throw new ConciergeError('backup_check_failed', `backup ${name} failed its check and was deleted: ${problem}`, { retry: true });
  }
  restrictBackupFile(partial);
  const final = publishBackup(settings.dir, name);
  const pruned = pruneBackups(settings.dir, settings.retention);
  const file = listBackups(settings.dir).find((b) => b.name === name);
  if (file === undefined) throw new ConciergeError('backup_vanished', `backup ${final} disappeared right after it was written`, { retry: true });
  return { file, pages: copied.totalPages, restarts: copied.restarts, pruned };
}

/**
 * The daily run: queues tomorrow's first (so a failing backup is retried
 * with backoff without ending the schedule), then backs up. A failure is
 * posted to the audit channel once per day and thrown for the retry.
 */
export async function runScheduledBackup(deps: { store: Store; log: Logger }, settings: BackupSettings, now: number): Promise<BackupResult> {
  deps.store.transaction((tx) => queueNextRun(tx, backupJob, {}, nextDailyAt(now, BACKUP_HOUR_UTC), now));
  try {
    const result = await takeBackup(deps.store, settings, now);
    deps.log.info({ file: result.file.path, bytes: result.file.bytes, restarts: result.restarts, pruned: result.pruned.length }, 'backup written and checked');
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    deps.store.transaction((tx) =>
      recordAudit(tx, { kind: 'backup.failed', severity: 'danger', message: `The daily backup failed and will be retried: ${message}`, dedupeKey: `backup.failed:${new Date(now).toISOString().slice(0, 10)}` }, now),
    );
    throw err;
  }
}
