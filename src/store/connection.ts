import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { listDatabaseFiles, ensurePrivateDirectory, restrictToOwner } from './file-modes.ts';

/**
 * SQLite's page cache per connection, in KiB: SQLite's own default, chosen
 * here rather than inherited. A page missing from it is a read from the
 * kernel's page cache (microseconds, reclaimable, and not in the process's
 * RSS), and the service keeps two connections (its own and the webhook
 * writer's), so a larger cache would mostly hold twice what the kernel holds
 * anyway, inside the memory budget (peak RSS under 150 MB at 100,000
 * members: bench:memory). No mmap (mmap_size stays 0): mapped pages count
 * in RSS.
 */
export const PAGE_CACHE_KIB = 2048;

/**
 * Opens a connection to Concierge's SQLite file with the pragmas every
 * connection relies on: WAL (readers never block the writer), foreign keys,
 * a busy timeout (the service's connection and the webhook writer's take
 * turns at the write lock) and a small page cache (PAGE_CACHE_KIB). Durability is the caller's choice:
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
  sqlite.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  // -wal and -shm files SQLite creates later get the database file's mode from it; existing ones are restricted here.
  if (onDisk) restrictToOwner(listDatabaseFiles(path));
  return sqlite;
}
