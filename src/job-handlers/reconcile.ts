import { runScheduledReconcile, type ScheduledReconcileDeps } from '../app/reconcile-schedule.ts';
import { reconcileJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** A scheduled reconciliation run, which queues the next one (app/reconcile-schedule.ts). */
export function reconcileHandler(deps: Omit<ScheduledReconcileDeps, 'log'>) {
  return handleJob(reconcileJob, (_p, ctx) => runScheduledReconcile({ ...deps, log: ctx.log }, ctx));
}
