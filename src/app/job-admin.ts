import { setImmediate as turn } from 'node:timers/promises';
import type { Store } from '../store/db.ts';
import { listDeadJobs, retryJobNow, summarizeQueue, type KindDepth, type RetryOutcome } from '../store/job-admin-repo.ts';
import type { JobRecord } from '../store/job-repo.ts';

/** `concierge jobs`: the queue at a glance, and retrying dead letters. */

export interface QueueReport {
  kinds: KindDepth[];
  /** The first dead letters, oldest first (the operator's to-do list). */
  dead: JobRecord[];
  /** Every dead letter, also those not listed. */
  deadTotal: number;
}

export function describeQueue(store: Store, now: number, o: { deadListed: number }): QueueReport {
  const kinds = summarizeQueue(store.db, now);
  return { kinds, dead: listDeadJobs(store.db, { limit: o.deadListed }), deadTotal: kinds.reduce((n, k) => n + k.dead, 0) };
}

/** Retries one job: a dead letter runs again with fresh attempts; a job waiting for its backoff runs now. */
export function retryOneJob(store: Store, id: number, now: number): RetryOutcome {
  return store.transaction((tx) => retryJobNow(tx, id, now));
}

/** Dead letters retried per transaction. */
const BATCH = 200;

/**
 * Retries every dead letter, in batches (one transaction each, an event-loop
 * turn between): returns how many were requeued and how many folded into a
 * newer queued job of the same key. The cursor (job id) only moves forward,
 * so a letter that the running service retries and dead-letters again
 * during this run is not retried a second time.
 */
export async function retryAllDeadJobs(store: Store, now: number, onProgress?: (done: number, total: number) => void): Promise<{ requeued: number; folded: number }> {
  const total = summarizeQueue(store.db, now).reduce((n, k) => n + k.dead, 0);
  let requeued = 0;
  let folded = 0;
  let afterId = 0;
  for (;;) {
    const batch = store.transaction((tx) => {
      const ids = listDeadJobs(tx, { limit: BATCH, afterId }).map((j) => j.id);
      for (const id of ids) {
        const r = retryJobNow(tx, id, now);
        if (r.kind === 'requeued') requeued++;
        else if (r.kind === 'folded') folded++;
      }
      return ids;
    });
    if (batch.length === 0) break;
    afterId = batch[batch.length - 1] ?? afterId;
    onProgress?.(requeued + folded, total);
    await turn();
  }
  return { requeued, folded };
}
