import { enqueue } from '../jobs/queue.ts';
import type { OnDead } from '../jobs/queue.ts';
import { getAuditByDedupeKey } from '../store/audit-repo.ts';

/**
 * Called inside the dead-letter transaction: the queue has recorded the
 * 'job.dead' audit entry; publish it to the audit channel like any other.
 * A dead audit post is not announced again (that could loop).
 */
export const publishDeadJob: OnDead = (tx, job, _error) => {
  if (job.kind === 'audit') return;
  const entry = getAuditByDedupeKey(tx, `job.dead:${job.id}`);
  if (entry !== undefined) enqueue(tx, 'audit', { auditId: entry.id }, entry.at, { dedupeKey: `audit:${entry.id}` });
};
