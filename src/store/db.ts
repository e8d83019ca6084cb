import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { openConnection } from './connection.ts';
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
 *
 * Durability is chosen per connection. An acknowledged webhook must survive
 * power loss, so the webhook writer thread (app/ingest-writer.ts) opens its
 * own connection with synchronous=FULL (one fsync of the WAL per group
 * commit). This connection — queue bookkeeping, processing, audit — commits
 * with NORMAL: WAL commits are ordered, so a power loss can only drop a
 * suffix of them, which idempotent jobs redo from the durable inbox; and the
 * writer's next FULL commit makes every earlier one durable too.
 */
/**
 * Drizzle asks better-sqlite3 to compile every query anew; compiling costs
 * more than running the small queries Concierge makes (measured: ~30–50 µs
 * per statement, the largest share of a job's CPU). Statements are cached by
 * SQL text and reused. Drizzle switches a statement to raw (array) mode when
 * it maps columns itself, so a reused statement is reset to object mode first.
 */
function cachePreparedStatements(sqlite: Database.Database, max = 500): void {
  const cache = new Map<string, Database.Statement>();
  const compile = sqlite.prepare.bind(sqlite);
  const prepare = (source: string): Database.Statement => {
    const hit = cache.get(source);
    if (hit !== undefined) {
      if (hit.reader) hit.raw(false);
      return hit;
    }
    const stmt = compile(source);
    if (cache.size >= max) cache.delete(cache.keys().next().value ?? '');
    cache.set(source, stmt);
    return stmt;
  };
  Object.assign(sqlite, { prepare });
}

export function openStore(path: string, opts: { migrate?: boolean } = {}): Store {
  const sqlite = openConnection(path);
  cachePreparedStatements(sqlite);
  const db = drizzle(sqlite, { schema });
  if (opts.migrate !== false) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return {
    sqlite,
    db,
    transaction: (fn) => db.transaction((tx) => fn(tx), { behavior: 'immediate' }),
    close: () => sqlite.close(),
  };
}
