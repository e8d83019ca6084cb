import { scanExpiryWarnings } from '../app/expiry-warnings.ts';
import { expiryWarningsJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';
import type { Store } from '../store/db.ts';

/** The hourly expiry-warning scan (app/expiry-warnings.ts); it queues the next one itself. */
export function expiryWarningsHandler(deps: { store: Store }) {
  return handleJob(expiryWarningsJob, async (p, ctx) => {
    const r = scanExpiryWarnings(deps, p.since, ctx.now());
    if (r.warned > 0) ctx.log.info({ ...r }, 'expiry warnings queued');
  });
}
