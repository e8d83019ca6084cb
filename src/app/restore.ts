import { existsSync } from 'node:fs';
import { ConciergeError } from '../errors.ts';
import { checkDatabaseFile, readKnownMigrations, removeDatabaseFiles } from '../store/backup-file.ts';
import { installStagedDatabase, setDatabaseAside, stageRestoreCopy } from '../store/backup-restore.ts';
import { openStore } from '../store/db.ts';

/**
 * `concierge restore <file>`: replaces the database with a backup. Refuses
 * while a service holds the database (its open connection would keep writing
 * to the replaced file); checks the backup before anything is moved; keeps
 * the current database aside rather than deleting it; migrates the restored
 * one to this release, as a start would.
 */

export interface RestoreDeps {
  databasePath: string;
  /** store/instance-lock.ts in the CLI; a test may pass its own answer. */
  isServiceRunning: (databasePath: string) => boolean;
  now: number;
  /** Progress lines for the operator. */
  onStep?: (text: string) => void;
}

export interface RestoreResult {
  /** Where the previous database went (empty when there was none). */
  aside: string[];
  /** Migrations the backup carried, and those applied on top of it now. */
  backupMigrations: number;
  migrationsApplied: number;
}

export function restoreDatabase(file: string, d: RestoreDeps): RestoreResult {
  const step = d.onStep ?? (() => undefined);
  if (d.isServiceRunning(d.databasePath)) {
    throw refuse('restore_service_running', `Concierge is running on ${d.databasePath}: stop it first (systemctl stop concierge), then restore`);
  }
  if (!existsSync(file)) throw refuse('restore_no_file', `backup file ${file} does not exist`);
  step(`copying ${file} next to the database`);
  const staged = stageRestoreCopy(file, d.databasePath);
  step('checking the copy (integrity, migrations)');
  const known = readKnownMigrations();
  const check = checkDatabaseFile(staged, known);
  if (!check.ok) {
    removeDatabaseFiles(staged);
    throw refuse('restore_bad_file', `${file} cannot be restored: ${check.problem}; nothing was changed`);
  }
  const aside = setDatabaseAside(d.databasePath, new Date(d.now).toISOString().replace(/:/g, '-'));
  if (aside.length > 0) step(`kept the current database as ${aside[0]}`);
  installStagedDatabase(staged, d.databasePath);
  step(`migrating (${check.migrations.length} of ${known.length} migrations in the backup)`);
  try {
    openStore(d.databasePath).close();
  } catch (err) {
    const back = aside.length > 0 ? `; the previous database is ${aside[0]}` : '';
    throw new ConciergeError('restore_migrate_failed', `the backup is in place but migrating it failed: ${err instanceof Error ? err.message : String(err)}${back}`, { retry: false, cause: err });
  }
  return { aside, backupMigrations: check.migrations.length, migrationsApplied: known.length - check.migrations.length };
}

function refuse(code: string, message: string): ConciergeError {
  return new ConciergeError(code, message, { retry: false });
}
