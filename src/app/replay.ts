import { processWebhookJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Store } from '../store/db.ts';
import { getWebhookEvent, markWebhookEventForReplay } from '../store/inbox-repo.ts';
import { getJob } from '../store/job-repo.ts';
import { recordAudit } from './audit.ts';

/**
 * `concierge replay <event-id>`: runs a stored webhook through processing
 * again. It is queued as a process-webhook job, like a delivery, rather than
 * processed in the CLI: one code path (fetch-on-notify, retries, dead
 * letters), the CLI needs no PayPal credentials, and the role changes and
 * DMs it leads to are jobs the service runs anyway. Processing is idempotent
 * (PayPal is re-read, payments and audit entries are deduplicated), so a
 * replay of an event processed before changes only what PayPal now says.
 */

export type ReplayOutcome =
  | { kind: 'queued'; jobId: number; previousOutcome: string }
  | { kind: 'missing' }
  /** Its body was emptied by retention: nothing left to process. */
  | { kind: 'pruned'; receivedAt: number };

export function replayWebhookEvent(store: Store, eventId: string, now: number): ReplayOutcome {
  return store.transaction((tx) => {
    const event = getWebhookEvent(tx, eventId);
    if (event === undefined) return { kind: 'missing' };
    if (event.rawBody === '') return { kind: 'pruned', receivedAt: event.receivedAt };
    const previous = `${event.outcome}${event.detail === null ? '' : ` (${event.detail})`}`;
    markWebhookEventForReplay(tx, eventId, `replay requested by an operator; was ${previous}`.slice(0, 1000));
    // One pending replay per event: a second request before it ran folds into it.
    const jobId = enqueue(tx, processWebhookJob, { eventId }, now, { dedupeKey: `replay:${eventId}` });
    recordAudit(
      tx,
      {
        kind: 'webhook.replayed',
        severity: 'info',
        eventId,
        message: `An operator replayed PayPal event ${eventId} (${event.eventType}); it was ${previous}`,
        data: { jobId, previousOutcome: event.outcome, resourceId: event.resourceId },
      },
      now,
    );
    return { kind: 'queued', jobId, previousOutcome: event.outcome };
  });
}

export type ReplayProgress =
  | { kind: 'finished'; status: 'done' | 'dead'; outcome: string; detail: string | null; lastError: string | null }
  | { kind: 'pending'; status: string; attempts: number; lastError: string | null };

/** Where a replay's job stands, and the event's outcome once it ran. */
export function readReplayProgress(store: Store, eventId: string, jobId: number): ReplayProgress {
  const job = getJob(store.db, jobId);
  const event = getWebhookEvent(store.db, eventId);
  if (job === undefined) return { kind: 'finished', status: 'done', outcome: event?.outcome ?? 'unknown', detail: event?.detail ?? null, lastError: null };
  if (job.status === 'done' || job.status === 'dead') {
    return { kind: 'finished', status: job.status, outcome: event?.outcome ?? 'unknown', detail: event?.detail ?? null, lastError: job.lastError };
  }
  return { kind: 'pending', status: job.status, attempts: job.attempts, lastError: job.lastError };
}
