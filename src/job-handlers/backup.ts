import { runScheduledBackup, type BackupSettings } from '../app/backup.ts';
import { backupJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';
import type { Store } from '../store/db.ts';

/** The daily backup (app/backup.ts); it queues the next one itself. */
export function backupHandler(deps: { store: Store; backup: BackupSettings }) {
  return handleJob(backupJob, async (_p, ctx) => void (await runScheduledBackup({ store: deps.store, log: ctx.log }, deps.backup, ctx.now())));
}
