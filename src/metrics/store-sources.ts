import { z } from 'zod';
import { LAST_RUN_KEY } from '../app/reconcile-schedule.ts';
import { JOB_DEFINITIONS } from '../jobs/definitions.ts';
import { listBackups } from '../store/backup-dir.ts';
import type { DbOrTx } from '../store/db.ts';
import { countMembersByTier, countOpenJobs, earliestQueuedRunAt } from '../store/metrics-repo.ts';
import { getSyncState } from '../store/sync-state-repo.ts';
import { createMetrics, type Metrics } from './registry.ts';
import type { GatewayStateName, LastReconcile, StateSources } from './state-gauges.ts';

/** The part of sync_state's `reconcile.last_run` JSON the gauges show; an unreadable record shows as no run. */
const lastRunSchema = z.object({ at: z.number(), completed: z.boolean(), differences: z.record(z.string(), z.number()) });

interface ServiceState {
  db: DbOrTx;
  clock: () => number;
  backupDir: string;
  gatewayState: () => GatewayStateName;
}

/** A running service's metrics (service.ts): the gauges read from its store, BACKUP_DIR and gateway client. */
export function createServiceMetrics(o: ServiceState): Metrics {
  return createMetrics(storeSources(o));
}

function storeSources(o: ServiceState): StateSources {
  const { db } = o;
  return {
    clock: o.clock,
    jobKinds: JOB_DEFINITIONS.map((d) => d.kind),
    openJobs: () => countOpenJobs(db),
    earliestQueuedRunAt: (kind) => earliestQueuedRunAt(db, kind),
    membersByTier: () => countMembersByTier(db),
    gatewayState: o.gatewayState,
    // Only checked backups get their final name (app/backup.ts), so the newest listed one is the last success; newest first.
    lastBackupAt: () => listBackups(o.backupDir)[0]?.takenAt ?? null,
    lastReconcile: () => readLastReconcile(db),
  };
}

function readLastReconcile(db: DbOrTx): LastReconcile | null {
  const raw = getSyncState(db, LAST_RUN_KEY);
  if (raw === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // A record this code did not write; it is replaced by the next run.
    return null;
  }
  const parsed = lastRunSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}
