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
    throw new ConciergeError('backup_copy_failed', `backup into ${settings.dir} failed: ${describe(err)}${discardPartial(partial)}`, { retry: true, cause: err });
  }
  onStep?.({ kind: 'check' });
  const source = readAppliedMigrations(store.sqlite) ?? [];
  const check = checkDatabaseFile(partial);
  const problem = !check.ok ? check.problem : check.migrations.length !== source.length ? `it has ${check.migrations.length} migrations, the database ${source.length}` : null;
  if (problem !== null) {
    throw new ConciergeError('backup_check_failed', `backup ${name} failed its check and was deleted: ${problem}${discardPartial(partial)}`, { retry: true });
  }
  restrictBackupFile(partial);
  const final = publishBackup(settings.dir, name);
  const pruned = pruneBackups(settings.dir, settings.retention, name);
  const file = listBackups(settings.dir).find((b) => b.name === name);
  if (file === undefined) throw new ConciergeError('backup_vanished', `backup ${final} disappeared right after it was written`, { retry: true });
  return { file, pages: copied.totalPages, restarts: copied.restarts, pruned };
}

/** Deletes a failed copy; '' or, when that fails too, what to add to the error (the copy's own failure stays the news). */
function discardPartial(partial: string): string {
  try {
    removeDatabaseFiles(partial);
    return '';
  } catch (err) {
    return `; deleting ${partial} failed too: ${describe(err)}`;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** After a failed daily backup, the next try: soon enough that a fixed disk gets a backup the same day, rare enough not to grind a full one. */
export const BACKUP_RETRY_MS = 3_600_000;

/**
 * The daily run. The next run is queued by this one: tomorrow at 03:00 UTC
 * after a good backup, in an hour after a failure, which is posted to the
 * audit channel (once a day) and logged. The failure is not thrown: the
 * runner's retry would fold into the queued next run with a fresh, short
 * backoff, copying the database every few seconds while the disk is full;
 * nor may a run of failures dead-letter the schedule. Null after a failure.
 */
export async function runScheduledBackup(deps: { store: Store; log: Logger }, settings: BackupSettings, now: number): Promise<BackupResult | null> {
  let result: BackupResult;
  try {
    result = await takeBackup(deps.store, settings, now);
  } catch (err) {
    const message = describe(err);
    deps.log.error({ error: message, retryAt: new Date(now + BACKUP_RETRY_MS).toISOString() }, 'backup failed');
    deps.store.transaction((tx) => {
      const day = new Date(now).toISOString().slice(0, 10);
      recordAudit(tx, { kind: 'backup.failed', severity: 'danger', message: `The daily backup failed; trying again every hour: ${message}`, dedupeKey: `backup.failed:${day}` }, now);
      queueNextRun(tx, backupJob, {}, now + BACKUP_RETRY_MS, now);
    });
    return null;
  }
  deps.store.transaction((tx) => queueNextRun(tx, backupJob, {}, nextDailyAt(now, BACKUP_HOUR_UTC), now));
  deps.log.info({ file: result.file.path, bytes: result.file.bytes, restarts: result.restarts, pruned: result.pruned.length }, 'backup written and checked');
  return result;
}
