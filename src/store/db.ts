import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { openConnection } from './connection.ts';
import { guardDatabaseFile, refuseNewerSchema } from './open-guard.ts';
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
  /**
   * Runs fn in one synchronous IMMEDIATE transaction (never pass an async
   * callback: it would commit at the first await), then, once COMMIT
   * succeeded and if fn queued a job, the onJobQueued listeners. A rollback
   * drops them.
   */
  transaction<T>(fn: (tx: Tx) => T): T;
  /**
   * Calls listener after each commit of a transaction that queued a job
   * (signalJobQueued): the job runner's wake, after commit (STYLE rule 7), so
   * a woken runner finds the job. Returns the unsubscribe.
   */
  onJobQueued(listener: () => void): () => void;
  close(): void;
}

/** Whether a transaction opened by Store.transaction queued a job, so its COMMIT must wake the runner. */
interface PendingCommit {
  jobQueued: boolean;
}

/**
 * The transactions Store.transaction has open, by the tx object it handed
 * out. better-sqlite3 is synchronous, so at most one per connection is open
 * at a time; a WeakMap, so nothing outlives its transaction.
 */
const openTransactions = new WeakMap<Tx, PendingCommit>();

/** Marks tx as having queued a job: the store's onJobQueued listeners run once after it commits. */
export function signalJobQueued(tx: DbOrTx): void {
  const pending = openTransactions.get(tx as Tx);
  // Outside Store.transaction there is no commit to wait for (or one this module cannot see): refuse rather than wake too early.
  if (pending === undefined) throw new Error('queueing a job needs a transaction opened by Store.transaction');
  pending.jobQueued = true;
}

/**
 * The listeners must not throw: the data is committed already, so an error
 * is rethrown only after the other listeners ran.
 */
function runAfterCommit(listeners: ReadonlySet<() => void>): void {
  let failure: { err: unknown } | null = null;
  // A copy: a listener that unsubscribes (or subscribes another) does not change this round.
  for (const fn of [...listeners]) {
    try {
      fn();
    } catch (err) {
      failure ??= { err };
    }
  }
  if (failure !== null) throw failure.err;
}

/**
 * Opens the SQLite database with the pragmas Concierge relies on.
 *
 * Durability is chosen per connection. An acknowledged webhook must survive
 * power loss, so the webhook writer thread (ingest/writer-thread.ts) opens its
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
  const sqlite = guardDatabaseFile(path, () => openConnection(path));
  cachePreparedStatements(sqlite);
  const db = drizzle(sqlite, { schema });
  try {
    guardDatabaseFile(path, () => {
      refuseNewerSchema(sqlite, path, MIGRATIONS_DIR);
      if (opts.migrate !== false) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    });
  } catch (err) {
    sqlite.close();
    throw err;
  }
  const jobListeners = new Set<() => void>();
  return {
    sqlite,
    db,
    transaction: (fn) => {
      const pending: PendingCommit = { jobQueued: false };
      const result = db.transaction(
        (tx) => {
          openTransactions.set(tx, pending);
          try {
            return fn(tx);
          } finally {
            openTransactions.delete(tx);
          }
        },
        { behavior: 'immediate' },
      );
      // Reached only after COMMIT: a throwing fn or a failed COMMIT rolled back and threw past this line.
      if (pending.jobQueued) runAfterCommit(jobListeners);
      return result;
    },
    onJobQueued: (listener) => {
      // A wrapper per subscription: the same function subscribed twice is two subscriptions.
      const entry = () => listener();
      jobListeners.add(entry);
      return () => void jobListeners.delete(entry);
    },
    close: () => sqlite.close(),
  };
}
