import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.ts';

export type Db = BetterSQLite3Database<typeof schema>;
/** What a synchronous drizzle transaction callback receives. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Repositories take either the database or an open transaction. */
export type DbOrTx = Db | Tx;

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface Store {
  sqlite: Database.Database;
  db: Db;
  /** Runs fn in one synchronous transaction (never pass an async callback: it would commit at the first await). */
  transaction<T>(fn: (tx: Tx) => T): T;
  close(): void;
}

/**
 * Opens the SQLite database with the pragmas Concierge relies on.
 * synchronous=FULL: an acknowledged webhook must survive power loss, not only
 * a crash. Webhook ingest amortises the fsync by committing in groups.
 */
export function openStore(path: string, opts: { migrate?: boolean } = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzle(sqlite, { schema });
  if (opts.migrate !== false) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return {
    sqlite,
    db,
    transaction: (fn) => db.transaction((tx) => fn(tx), { behavior: 'immediate' }),
    close: () => sqlite.close(),
  };
}
