import { countDifferences, type ReconcileReport } from '../core/reconcile.ts';
import { renderReportForDiscord } from '../core/reconcile-table.ts';
import { ConciergeError } from '../errors.ts';
import { reconcileJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { Store, Tx } from '../store/db.ts';
import { setSyncState } from '../store/sync-state-repo.ts';
import { recordAudit } from './audit.ts';
import { runReconcile, type ReconcileDeps } from './reconcile.ts';

/**
 * Reconciliation on a schedule (default hourly, RECONCILE_INTERVAL_MINUTES):
 * a job in the queue that queues its successor before it runs, under one
 * dedupe key. The queue keeps it across restarts, a start-up call makes sure
 * one is queued, and a crash mid-run leaves the next run queued. Each run
 * applies what it finds; differences and an incomplete run go to the audit
 * channel with the table, and the outcome is kept in sync_state for /readyz
 * and metrics.
 */

const SCHEDULE_KEY = 'schedule';
/** sync_state key: JSON of the last scheduled run ({ at, completed, failure, differences, checked }). */
export const LAST_RUN_KEY = 'reconcile.last_run';

function enqueueNext(tx: Tx, now: number, intervalMs: number): void {
  // Collapses into a run already queued: the earlier of the two stays.
  enqueue(tx, reconcileJob, {}, now, { runAt: now + intervalMs, dedupeKey: SCHEDULE_KEY });
}

/** At start-up: one scheduled run queued, one interval from now unless an earlier one is queued already. */
export function scheduleReconcile(store: Store, now: number, intervalMs: number): void {
  store.transaction((tx) => enqueueNext(tx, now, intervalMs));
}

export interface ScheduledReconcileDeps extends ReconcileDeps {
  /** Null: the schedule is off; a run left queued from before ends without running or queueing another. */
  intervalMs: number | null;
}

export async function runScheduledReconcile(deps: ScheduledReconcileDeps, ctx: { signal: AbortSignal; log: Logger }): Promise<void> {
  if (deps.intervalMs === null) {
    ctx.log.info('reconcile schedule is off (RECONCILE_INTERVAL_MINUTES=0); not running');
    return;
  }
  const intervalMs = deps.intervalMs;
  deps.store.transaction((tx) => enqueueNext(tx, deps.clock(), intervalMs));
  const report = await runReconcile({ ...deps, log: ctx.log }, { dryRun: false, signal: ctx.signal });
  if (ctx.signal.aborted) {
    // Shutdown: the runner puts the job back (its attempt not counted); it folds into the queued next run, which runs at once after restart.
    throw new ConciergeError('reconcile_interrupted', 'reconciliation stopped by shutdown', { retry: true });
  }
  deps.store.transaction((tx) => recordRun(tx, report, deps.clock()));
}

function recordRun(tx: Tx, r: ReconcileReport, now: number): void {
  const counts = countDifferences(r);
  setSyncState(tx, LAST_RUN_KEY, JSON.stringify({ at: r.finishedAt, completed: r.completed, failure: r.failure, differences: counts, checked: r.checked }), now);
  if (r.completed && r.differences.length === 0) return;
  recordAudit(
    tx,
    {
      kind: r.completed ? 'reconcile.drift' : 'reconcile.incomplete',
      severity: r.completed ? 'warning' : 'danger',
      message: renderReportForDiscord(r),
      data: { completed: r.completed, failure: r.failure, differences: counts, checked: r.checked },
    },
    now,
  );
}
