import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens a connection to Concierge's SQLite file with the pragmas every
 * connection relies on: WAL (readers never block the writer), foreign keys,
 * and a busy timeout (the service's connection and the webhook writer's
 * take turns at the write lock). Durability is the caller's choice:
 * `synchronous` is NORMAL here; the webhook writer raises it to FULL.
 */
export function openConnection(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}
