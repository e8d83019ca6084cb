import { runScheduledRetention, type RetentionPolicy } from '../app/retention.ts';
import { retentionJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';
import type { Store } from '../store/db.ts';

/** The daily retention run (app/retention.ts); it queues the next one itself. */
export function retentionHandler(deps: { store: Store; retention: RetentionPolicy }) {
  return handleJob(retentionJob, async (_p, ctx) => void (await runScheduledRetention({ store: deps.store, log: ctx.log }, deps.retention, ctx.now())));
}
