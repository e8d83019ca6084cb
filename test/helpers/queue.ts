import type { JobDefinition, JobPayload } from '../../src/jobs/definitions.ts';
import { enqueue, type CatalogueJob, type EnqueueOptions } from '../../src/jobs/queue.ts';
import type { Tx } from '../../src/store/db.ts';

/**
 * enqueue for the kinds the queue's own tests define. The product's enqueue
 * takes catalogue kinds only, and only at compile time (nothing checks the
 * kind at run time), so a test kind goes through the very same code once its
 * type is widened here.
 */
export function enqueueJob<D extends JobDefinition>(tx: Tx, definition: D, payload: JobPayload<D>, now: number, opts: EnqueueOptions = {}): number {
  return enqueue(tx, definition as JobDefinition as CatalogueJob, payload as JobPayload<CatalogueJob>, now, opts);
}
