import { existsSync } from 'node:fs';
import { ConciergeError } from '../errors.ts';
import { compareMigrations, readAppliedMigrations, readKnownMigrations } from '../store/backup-file.ts';
import { openStore, type Store } from '../store/db.ts';

/**
 * Opens the database for a maintenance command, which may run beside the
 * service (WAL: readers and one writer at a time). It must exist (a typo in
 * DATABASE_PATH must not create an empty one) and is not migrated: that is
 * the service's start or `concierge migrate`. Commands that read rows through
 * the schema want it at this release's migration (`current: true`).
 */
export function openExistingDatabase(path: string, o: { current: boolean }): Store {
  if (!existsSync(path)) throw new ConciergeError('database_missing', `database ${path} does not exist: check DATABASE_PATH`, { retry: false });
  const store = openStore(path, { migrate: false });
  const applied = readAppliedMigrations(store.sqlite);
  const known = readKnownMigrations();
  const problem = applied === null ? 'it is not a Concierge database' : compareMigrations(applied, known);
  const behind = applied !== null && problem === null && applied.length < known.length;
  if (problem !== null || (o.current && behind)) {
    store.close();
    const why = problem ?? `it is at migration ${applied?.length ?? 0} of ${known.length}: run \`concierge migrate\` (or start the service) first`;
    throw new ConciergeError('database_version', `database ${path}: ${why}`, { retry: false });
  }
  return store;
}
