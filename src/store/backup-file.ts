import { chmodSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { MIGRATIONS_DIR } from './db.ts';
import { listDatabaseFiles } from './file-modes.ts';

/**
 * One SQLite file as a backup: an online copy of a live database
 * (better-sqlite3's `backup()`, SQLite's backup API) and the check that makes
 * a copy count: `PRAGMA integrity_check` and the migrations it carries.
 */

/** A migration as drizzle records it in `__drizzle_migrations`: the SHA-256 of its SQL and its journal time. */
export interface AppliedMigration {
  hash: string;
  createdAt: number;
}

export interface CopyProgress {
  totalPages: number;
  remainingPages: number;
  /** How often SQLite started over because another connection wrote meanwhile. */
  restarts: number;
}

/** Pages per step at first: 1 MiB with 4 KiB pages, about a millisecond of the event loop per step. */
const FIRST_STEP_PAGES = 256;

/**
 * Copies the database open on `source` into `destination` (a new file) while
 * it stays in use. SQLite copies in steps, and starts over when a connection
 * other than `source` writes between two steps (the webhook writer thread
 * does, under load). Each restart quadruples the step, so under any write
 * rate the copy ends: at worst in one step holding a read snapshot, which in
 * WAL mode blocks no writer. The copy is the database as of its last step.
 */
export async function copyDatabaseOnline(source: Database.Database, destination: string, onProgress?: (p: CopyProgress) => void): Promise<CopyProgress> {
  let step = FIRST_STEP_PAGES;
  let restarts = 0;
  let lastRemaining = Number.POSITIVE_INFINITY;
  const result = await source.backup(destination, {
    progress: ({ totalPages, remainingPages }) => {
      if (remainingPages > lastRemaining) {
        restarts++;
        step = Math.min(step * 4, 0x7fffffff);
      }
      lastRemaining = remainingPages;
      onProgress?.({ totalPages, remainingPages, restarts });
      return step;
    },
  });
  return { totalPages: result.totalPages, remainingPages: result.remainingPages, restarts };
}

export type FileCheck = { ok: true; migrations: AppliedMigration[] } | { ok: false; problem: string };

/**
 * Makes `path` a self-contained file (rollback journal instead of WAL, so
 * it needs no -wal file next to it) and checks it: SQLite's integrity check,
 * and that it is a Concierge database whose migrations are a prefix of this
 * release's (a file from a newer release would lose what this one cannot
 * read). Never throws for a bad file: the problem comes back as text.
 */
export function checkDatabaseFile(path: string, known: readonly AppliedMigration[] = readKnownMigrations()): FileCheck {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    return { ok: false, problem: `cannot open ${path}: ${describe(err)}` };
  }
  try {
    // A backup inherits the source's WAL flag; DELETE rewrites the header so the file stands alone.
    db.pragma('journal_mode = DELETE');
    const integrity = db.pragma('integrity_check') as { integrity_check: string }[];
    const verdict = integrity.map((r) => r.integrity_check);
    if (verdict.length !== 1 || verdict[0] !== 'ok') return { ok: false, problem: `integrity check failed: ${verdict.slice(0, 5).join('; ')}` };
    const migrations = readAppliedMigrations(db);
    if (migrations === null) return { ok: false, problem: 'not a Concierge database (it has no __drizzle_migrations table)' };
    const mismatch = compareMigrations(migrations, known);
    return mismatch === null ? { ok: true, migrations } : { ok: false, problem: mismatch };
  } catch (err) {
    return { ok: false, problem: `cannot read ${path}: ${describe(err)}` };
  } finally {
    db.close();
  }
}

/** The migrations applied to an open database, oldest first; null when it has none (not ours, or never migrated). */
export function readAppliedMigrations(db: Database.Database): AppliedMigration[] | null {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'`).get();
  if (table === undefined) return null;
  const rows = db.prepare('SELECT hash, created_at AS createdAt FROM __drizzle_migrations ORDER BY id').all() as { hash: string; createdAt: number | string }[];
  return rows.map((r) => ({ hash: r.hash, createdAt: Number(r.createdAt) }));
}

/** This release's migrations (migrations/), as drizzle's migrator hashes them. */
export function readKnownMigrations(): AppliedMigration[] {
  return readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).map((m) => ({ hash: m.hash, createdAt: m.folderMillis }));
}

/** Null when `applied` is a prefix of `known`; otherwise what is wrong, for the operator. */
export function compareMigrations(applied: readonly AppliedMigration[], known: readonly AppliedMigration[]): string | null {
  if (applied.length > known.length) {
    return `it was written by a newer Concierge (${applied.length} migrations, this release knows ${known.length}): upgrade Concierge first`;
  }
  for (const [i, m] of applied.entries()) {
    const ours = known[i];
    if (ours === undefined || ours.hash !== m.hash) {
      return `its migration ${i + 1} is not this release's (hash ${m.hash.slice(0, 12)}…): it comes from another build of Concierge`;
    }
  }
  return null;
}

/** Removes a database file and the -wal, -shm and -journal files SQLite may have left next to it. */
export function removeDatabaseFiles(path: string): void {
  for (const f of [...listDatabaseFiles(path), `${path}-journal`]) rmSync(f, { force: true });
}

/** Owner-only: a backup holds buyers' names and e-mail addresses (whatever the umask of the process that made it). */
export function restrictBackupFile(path: string): void {
  chmodSync(path, 0o600);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
