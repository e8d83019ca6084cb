import { accessSync, constants } from 'node:fs';
import type { Store } from './db.ts';

/**
 * Throws when the database is not usable: it cannot be read, or (on disk)
 * its file is not writable. For /readyz.
 */
export function probeDatabase(store: Store): void {
  // Read-only on purpose: taking the write lock here (BEGIN IMMEDIATE) would block the event loop for up
  // to busy_timeout (5 s) whenever another connection (the webhook writer, a CLI backup) holds it.
  // WAL readers never wait for the writer. The access check catches a read-only file or file system.
  store.sqlite.prepare('SELECT count(*) FROM sqlite_master').get();
  if (!store.sqlite.memory) accessSync(store.sqlite.name, constants.W_OK);
}
