import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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
  /**
   * Makes every transaction committed so far durable (survives power loss):
   * an fdatasync of the WAL, run on libuv's thread pool so the event loop
   * keeps serving while the disk works.
   */
  syncToDisk(): Promise<void>;
  close(): void;
}

/**
 * Opens the SQLite database with the pragmas Concierge relies on.
 *
 * Commits use synchronous=NORMAL: in WAL mode they are atomic and ordered, so
 * a crash of the process loses nothing and a power loss can only drop a
 * suffix of recent commits. Where a commit must survive power loss (an
 * acknowledged webhook), the caller awaits syncToDisk() after it: the same
 * fsync of the WAL that synchronous=FULL performs inside the commit, but
 * shared by every commit made meanwhile (group commit) and off the event
 * loop. One fsync costs ~130–400 µs on this machine; inside the commit it
 * would block every request in flight.
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

/**
 * Opens the -wal file for syncing, and syncs its directory once: a file
 * created since the last directory sync could otherwise vanish on power loss
 * with everything in it.
 */
async function openWal(dbPath: string): Promise<FileHandle> {
  const dir = await open(dirname(dbPath), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return open(`${dbPath}-wal`, 'r');
}

export function openStore(path: string, opts: { migrate?: boolean } = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  cachePreparedStatements(sqlite);
  const db = drizzle(sqlite, { schema });
  if (opts.migrate !== false) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  let wal: Promise<FileHandle> | null = null;
  return {
    sqlite,
    db,
    transaction: (fn) => db.transaction((tx) => fn(tx), { behavior: 'immediate' }),
    syncToDisk: async () => {
      if (path === ':memory:') return;
      // One descriptor for the store's life: the -wal file keeps its inode while a connection
      // is open (checkpoints here are PASSIVE; nothing truncates or deletes it).
      wal ??= openWal(resolve(path));
      await (await wal).datasync();
    },
    close: () => {
      const handle = wal;
      wal = null;
      void handle?.then((h) => h.close()).catch(() => undefined);
      sqlite.close();
    },
  };
}
