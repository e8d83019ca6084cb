import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDirectory, restrictToOwner } from './file-modes.ts';

/**
 * One Concierge per database. Two services on one file would both claim
 * jobs and both answer webhooks, and the start-up release of leases (a
 * lease found at start belongs to a dead process, store/job-repo.ts
 * expireAllLeases) would be wrong: the other process is alive.
 *
 * The lock is an exclusive SQLite transaction held open on a side file,
 * `<database>.lock`, for the life of the process. SQLite takes it with a
 * POSIX advisory lock, which the kernel drops when the process dies however
 * it dies (SIGKILL, OOM, power loss): no stale lock to clean up, unlike a
 * lock file created with O_EXCL. A side file, not the database itself, so
 * the CLI and the webhook writer thread still read and write the database.
 * SQLite tracks locks per connection within a process too, so a second
 * service started in the same process (tests) is refused the same way.
 */

export interface InstanceLock {
  /** The side file holding the lock. */
  readonly path: string;
  release(): void;
}

export type LockAttempt = { ok: true; lock: InstanceLock } | { ok: false; path: string };

export function lockPathFor(databasePath: string): string {
  return `${resolve(databasePath)}.lock`;
}

/** Takes the lock for `databasePath`, or says that another process (or connection) holds it. Never waits. */
export function acquireInstanceLock(databasePath: string): LockAttempt {
  // An in-memory database belongs to its connection: nobody else can open it.
  if (databasePath === ':memory:' || databasePath === '') return { ok: true, lock: { path: '', release: () => undefined } };
  const path = lockPathFor(databasePath);
  ensurePrivateDirectory(dirname(path));
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of after better-sqlite3's default 5 s wait.
  const conn = new Database(path, { timeout: 0 });
  try {
    conn.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    conn.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return { ok: false, path };
    throw err;
  }
  restrictToOwner([path]);
  let held = true;
  return {
    ok: true,
    lock: {
      path,
      release: () => {
        if (!held) return;
        held = false;
        // Closing rolls the empty transaction back and drops the lock.
        conn.close();
      },
    },
  };
}

/**
 * Whether a Concierge service holds the database at `databasePath` (its
 * instance lock): for CLI commands that must not run under a live service
 * (`restore`) or that behave differently when one runs (`replay`).
 */
export function isServiceRunning(databasePath: string): boolean {
  const attempt = acquireInstanceLock(databasePath);
  if (!attempt.ok) return true;
  attempt.lock.release();
  return false;
}
