import type Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';

/**
 * Start-up checks of the database file, so that a damaged file or one from a
 * newer release stops Concierge with what to do, before anything is written
 * to it (a migration, WAL mode, a job lease), and never with a stack trace
 * from inside SQLite.
 */

const RESTORE = 'restore the latest backup (npx concierge restore <file>; backups are in BACKUP_DIR)';

/** The database file cannot be used: says which file, why, and what to do. One line: it is what `npm start` prints. */
export class DatabaseFileError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    fix = `${RESTORE[0]?.toUpperCase()}${RESTORE.slice(1)}, or move the file away to start with an empty database`,
  ) {
    super(`Database ${path} cannot be used: ${problem}. Concierge left it as it is. ${fix}.`);
    this.name = 'DatabaseFileError';
  }
}

/** SQLite's answers that mean the file itself is unusable (better-sqlite3's SqliteError codes). */
const FILE_PROBLEMS: Readonly<Record<string, string>> = {
  SQLITE_NOTADB: 'it is not a SQLite database (SQLite: file is not a database)',
  SQLITE_CORRUPT: 'it is damaged, e.g. truncated or partly overwritten (SQLite: database disk image is malformed)',
  SQLITE_CANTOPEN: 'SQLite cannot open it (check the path, and that the directory and file belong to the service user)',
};

function fileProblem(err: unknown): string | null {
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '';
  // SQLITE_CORRUPT_INDEX, SQLITE_CORRUPT_SEQUENCE …: extended codes of the same condition.
  const base = code.startsWith('SQLITE_CORRUPT') ? 'SQLITE_CORRUPT' : code;
  return FILE_PROBLEMS[base] ?? null;
}

/** Runs fn; an error that means the file is unusable becomes a DatabaseFileError, anything else passes through. */
export function guardDatabaseFile<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const problem = fileProblem(err);
    if (problem === null || err instanceof DatabaseFileError) throw err;
    throw new DatabaseFileError(path, problem);
  }
}

/**
 * Refuses a database a newer release migrated: this release's migrator would
 * skip what it does not know, and its code would then read tables that
 * changed shape under it.
 */
export function refuseNewerSchema(sqlite: Database.Database, path: string, migrationsFolder: string): void {
  const table = sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'`).get();
  if (table === undefined) return;
  const applied = sqlite.prepare('SELECT hash, created_at AS createdAt FROM __drizzle_migrations ORDER BY id').all() as { hash: string; createdAt: number | string }[];
  const known = readMigrationFiles({ migrationsFolder });
  const newest = known.at(-1)?.folderMillis ?? 0;
  const unknown = applied.filter((m) => !known.some((k) => k.hash === m.hash) && Number(m.createdAt) > newest);
  if (unknown.length > 0) {
    const latest = new Date(Number(unknown.at(-1)?.createdAt)).toISOString();
    throw new DatabaseFileError(path, `a newer Concierge migrated it (${unknown.length} migration(s) this release does not know, the latest of ${latest})`, `Run that release again, or ${RESTORE} made by this release`);
  }
}
