import type { Command } from 'commander';
import { loadDatabasePath } from '../../config.ts';
import { openStore } from '../../store/db.ts';
import { explainFailures } from '../exit.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations (also done at every start)')
    .action(
      explainFailures(() => {
        const path = loadDatabasePath();
        const store = openStore(path);
        const applied = store.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number };
        store.close();
        process.stdout.write(`database ${path} is up to date (${applied.n} migration(s) applied)\n`);
      }),
    );
}
