import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { listDatabaseFiles, ensurePrivateDirectory, restrictToOwner } from './file-modes.ts';

/**
 * Opens a connection to Concierge's SQLite file with the pragmas every
 * connection relies on: WAL (readers never block the writer), foreign keys,
 * and a busy timeout (the service's connection and the webhook writer's
 * take turns at the write lock). Durability is the caller's choice:
 * `synchronous` is NORMAL here; the webhook writer raises it to FULL.
 * The directory is created 0700 and the files are made owner-only (0600):
 * they hold buyers' names and e-mail addresses (see file-modes.ts).
 */
export function openConnection(path: string): Database.Database {
  const onDisk = path !== ':memory:' && path !== '';
  if (onDisk) ensurePrivateDirectory(dirname(resolve(path)));
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // -wal and -shm files SQLite creates later get the database file's mode from it; existing ones are restricted here.
  if (onDisk) restrictToOwner(listDatabaseFiles(path));
  return sqlite;
}
