import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { restoreDatabase } from '../../app/restore.ts';
import { loadStorageConfig } from '../../config.ts';
import { serialKeyFilePath } from '../../serials/serial-key.ts';
import { openStore } from '../../store/db.ts';
import { isServiceRunning } from '../../store/instance-lock.ts';
import { explainFailures } from '../exit.ts';

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('replace the database with a backup file: refuses while the service runs, checks the file first, keeps the current database aside, then migrates')
    .argument('<file>', 'a backup, e.g. one of BACKUP_DIR/concierge-<time>.db')
    .action(
      explainFailures((file: string) => {
        const { databasePath } = loadStorageConfig();
        const result = restoreDatabase(file, { databasePath, isServiceRunning, now: Date.now(), onStep: (text) => process.stderr.write(`${text}\n`) });
        const aside = result.aside.length > 0 ? `; the previous database is kept as ${result.aside[0]}` : '';
        process.stdout.write(`restored ${file} into ${databasePath} (${result.migrationsApplied} migration(s) applied on top)${aside}\n`);
        noteSerialKey(databasePath);
      }),
    );
}

/**
 * Serials are sealed under a key that backups do not carry (serials/serial-key.ts).
 * Restored on another machine, the database needs that key back before the
 * service can start: say so rather than let the start fail on it.
 */
function noteSerialKey(databasePath: string): void {
  const keyFile = serialKeyFilePath(databasePath);
  if (keyFile === null || existsSync(keyFile)) return;
  const store = openStore(databasePath, { migrate: false });
  const { n } = store.sqlite.prepare('SELECT count(*) AS n FROM serials').get() as { n: number };
  store.close();
  if (n > 0) process.stderr.write(`note: ${n} serial(s) are sealed with a key that backups do not hold: unless SERIAL_SECRET is set, put back ${keyFile} from the machine this backup comes from before starting Concierge\n`);
}
