import { drizzle } from 'drizzle-orm/better-sqlite3';
import { openConnection } from './connection.ts';
import type Database from 'better-sqlite3';
import type { Db } from './db.ts';
import * as schema from './schema.ts';

/**
 * A second, query-only connection for long reads (the member export): a
 * better-sqlite3 connection is busy for as long as an iterator is open on it,
 * so a read that streams across event-loop turns must not hold the
 * connection the job runner and the commands share. WAL gives it one
 * consistent snapshot while the service keeps writing. Not for ':memory:',
 * where a second connection would open another, empty database.
 */
export interface Reader {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

export function openReader(path: string): Reader {
  const sqlite = openConnection(path);
  sqlite.pragma('query_only = ON');
  return { db: drizzle(sqlite, { schema }), sqlite, close: () => sqlite.close() };
}
