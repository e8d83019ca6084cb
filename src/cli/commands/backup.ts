import type { Command } from 'commander';
import { takeBackup } from '../../app/backup.ts';
import { loadStorageConfig } from '../../config.ts';
import { explainFailures } from '../exit.ts';
import { openExistingDatabase } from '../open-database.ts';
import { createProgress } from '../progress.ts';

const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('write an online backup of the database into BACKUP_DIR (safe while the service runs), check it, keep the newest BACKUP_RETENTION')
    .action(
      explainFailures(async () => {
        const storage = loadStorageConfig();
        const store = openExistingDatabase(storage.databasePath, { current: false });
        const progress = createProgress();
        try {
          const result = await takeBackup(store, storage.backup, Date.now(), (s) => {
            if (s.kind === 'check') return progress.done('checking the copy (integrity, migrations)');
            const { totalPages, remainingPages, restarts } = s.progress;
            const pct = totalPages === 0 ? 100 : Math.floor(((totalPages - remainingPages) / totalPages) * 100);
            progress.update(`copying ${pct}% of ${totalPages} pages${restarts > 0 ? ` (restarted ${restarts}× while the service wrote)` : ''}`);
          });
          const restarted = result.restarts > 0 ? `, restarted ${result.restarts}× while the service wrote` : '';
          process.stdout.write(`backup ${result.file.path} written and checked (${mib(result.file.bytes)}, ${result.pages} pages${restarted})\n`);
          const deleted = result.pruned.length > 0 ? `; deleted ${result.pruned.map((b) => b.name).join(', ')}` : '';
          process.stdout.write(`keeping the newest ${storage.backup.retention} backup(s) in ${storage.backup.dir}${deleted}\n`);
        } finally {
          store.close();
        }
      }),
    );
}
