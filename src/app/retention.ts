import { setImmediate as turn } from 'node:timers/promises';
import { DAY_MS } from '../core/time.ts';
import { retentionJob } from '../jobs/definitions.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { deleteDoneJobs, deleteOldTransmissions, pruneWebhookBodies } from '../store/retention-repo.ts';
import { nextDailyAt, queueNextRun, RETENTION_HOUR_UTC } from './schedules.ts';

/**
 * What the store keeps, and for how long. A scheduled job (daily) prunes the
 * rest, in batches of one short transaction each with an event-loop turn in
 * between, so webhooks and jobs go on meanwhile.
 */

export interface RetentionPolicy {
  /** Processed webhook bodies are emptied after this long (they hold buyers' names and e-mail addresses); the rows stay. */
  webhookBodyMs: number;
  /** Done jobs are deleted after this long; dead ones stay until an operator deals with them. */
  doneJobMs: number;
  /** Webhook transmissions are forgotten after this long (see retentionPolicy). */
  transmissionMs: number;
}

/**
 * A delivery is refused once its transmission time is older than
 * WEBHOOK_MAX_AGE_SECONDS or more than 5 minutes ahead (paypal/verify-webhook.ts),
 * so a transmission id need not be remembered past that: replayed headers
 * would be refused as stale anyway. An hour more covers clock steps.
 */
const TRANSMISSION_MARGIN_MS = 5 * 60_000 + 3_600_000;

export function retentionPolicy(o: { webhookBodyDays: number; doneJobDays: number; webhookMaxAgeSeconds: number }): RetentionPolicy {
  return { webhookBodyMs: o.webhookBodyDays * DAY_MS, doneJobMs: o.doneJobDays * DAY_MS, transmissionMs: o.webhookMaxAgeSeconds * 1000 + TRANSMISSION_MARGIN_MS };
}

export interface RetentionReport {
  webhookBodies: number;
  doneJobs: number;
  transmissions: number;
}

/** Rows per transaction: a few milliseconds of the write lock each. */
const BATCH = 500;

/** Prunes everything the policy no longer keeps, as of `now`. */
export async function applyRetention(deps: { store: Store }, policy: RetentionPolicy, now: number): Promise<RetentionReport> {
  const { store } = deps;
  const report: RetentionReport = { webhookBodies: 0, doneJobs: 0, transmissions: 0 };
  let from = 0;
  for (;;) {
    const r = store.transaction((tx) => pruneWebhookBodies(tx, { before: now - policy.webhookBodyMs, from, limit: BATCH }));
    report.webhookBodies += r.pruned;
    if (r.lastReceivedAt === null) break;
    from = r.lastReceivedAt;
    await turn();
  }
  for (let n = BATCH; n === BATCH; ) {
    n = store.transaction((tx) => deleteDoneJobs(tx, { before: now - policy.doneJobMs, limit: BATCH }));
    report.doneJobs += n;
    await turn();
  }
  for (let n = BATCH; n === BATCH; ) {
    n = store.transaction((tx) => deleteOldTransmissions(tx, { before: now - policy.transmissionMs, limit: BATCH }));
    report.transmissions += n;
    await turn();
  }
  return report;
}

/** After a failed run, the next try. */
const RETENTION_RETRY_MS = 3_600_000;

/**
 * The daily run; it queues the next one: tomorrow at 04:00 UTC, or in an
 * hour after a failure, which is logged (not thrown: the runner's retry
 * would fold into the queued next run, and a run of failures must not
 * dead-letter the schedule). Null after a failure.
 */
export async function runScheduledRetention(deps: { store: Store; log: Logger }, policy: RetentionPolicy, now: number): Promise<RetentionReport | null> {
  let report: RetentionReport;
  try {
    report = await applyRetention(deps, policy, now);
  } catch (err) {
    deps.log.error({ error: err instanceof Error ? err.message : String(err) }, 'retention failed; trying again in an hour');
    deps.store.transaction((tx) => queueNextRun(tx, retentionJob, {}, now + RETENTION_RETRY_MS, now));
    return null;
  }
  deps.store.transaction((tx) => queueNextRun(tx, retentionJob, {}, nextDailyAt(now, RETENTION_HOUR_UTC), now));
  deps.log.info({ ...report }, 'retention applied');
  return report;
}
