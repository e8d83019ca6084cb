import { DAY_MS } from '../core/time.ts';
import { backupJob, expiryWarningsJob, retentionJob, type JobPayload } from '../jobs/definitions.ts';
import { enqueue, type CatalogueJob } from '../jobs/queue.ts';
import type { Store, Tx } from '../store/db.ts';
import { hasPendingJob } from '../store/job-admin-repo.ts';

/**
 * Concierge's standing schedules, kept in the job queue rather than in timers:
 * a pending job survives a restart, runs late rather than never after
 * downtime, and follows the service clock (tests move it). Each kind has one
 * pending job under SCHEDULE_KEY; each run queues its successor (see
 * queueNextRun), and every start queues the ones that are missing.
 */

/** The dedupe key of every scheduled job: with the kind, it names the one pending run. */
export const SCHEDULE_KEY = 'schedule';

const HOUR_MS = 3_600_000;
/** How often expiry warnings are looked for: a warning is at most this late. */
export const EXPIRY_SCAN_EVERY_MS = HOUR_MS;
/** The daily backup at 03:00 UTC, and retention an hour later (after the backup, so it holds what was pruned). */
export const BACKUP_HOUR_UTC = 3;
export const RETENTION_HOUR_UTC = 4;

/** The first time after `now` that is `hourUtc`:00 UTC. */
export function nextDailyAt(now: number, hourUtc: number): number {
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const today = dayStart + hourUtc * HOUR_MS;
  return today > now ? today : today + DAY_MS;
}

/**
 * Queues the next run of a scheduled kind at `runAt`. Called by the run
 * itself: its own row is running, so this adds the one queued row; a second
 * call (a run retried after a crash) folds into it.
 */
export function queueNextRun<D extends CatalogueJob>(tx: Tx, definition: D, payload: JobPayload<D>, runAt: number, now: number): void {
  enqueue(tx, definition, payload, now, { runAt, dedupeKey: SCHEDULE_KEY });
}

/**
 * Queues each schedule that has no pending run (a new database, or a run
 * that was dead-lettered). Called at every start, before the runner starts;
 * a pending run keeps its time. Returns the kinds it queued.
 */
export function ensureSchedules(store: Store, now: number): string[] {
  return store.transaction((tx) => {
    const queued: string[] = [];
    const missing = (d: CatalogueJob) => !hasPendingJob(tx, d.kind, SCHEDULE_KEY);
    if (missing(expiryWarningsJob)) {
      // From now on: access whose warning time passed before this first start is not warned late.
      queueNextRun(tx, expiryWarningsJob, { since: now }, now, now);
      queued.push(expiryWarningsJob.kind);
    }
    if (missing(retentionJob)) {
      queueNextRun(tx, retentionJob, {}, nextDailyAt(now, RETENTION_HOUR_UTC), now);
      queued.push(retentionJob.kind);
    }
    if (missing(backupJob)) {
      queueNextRun(tx, backupJob, {}, nextDailyAt(now, BACKUP_HOUR_UTC), now);
      queued.push(backupJob.kind);
    }
    return queued;
  });
}
