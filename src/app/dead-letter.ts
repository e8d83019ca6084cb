import { auditJob } from '../jobs/definitions.ts';
import { enqueue, type OnDead } from '../jobs/queue.ts';

/**
 * Called inside the dead-letter transaction: the queue has recorded the
 * 'job.dead' audit entry; publish it to the audit channel like any other.
 * A dead audit post is not announced again (that could loop).
 */
export const publishDeadJob: OnDead = (tx, job, _error, audit) => {
  if (job.kind === auditJob.kind || audit.id === null) return;
  enqueue(tx, auditJob, { auditId: audit.id }, audit.at, { dedupeKey: `audit:${audit.id}` });
};
