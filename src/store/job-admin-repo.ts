import { and, asc, count, eq, gt, min, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { advanceQueuedSibling, type JobRecord } from './job-repo.ts';
import { jobs } from './schema.ts';

/**
 * The jobs table as operators and schedulers see it: depth by kind, dead
 * letters, retrying one, and whether a scheduled job is already pending.
 * The queue's own verbs (claim, complete, fail) are job-repo.ts.
 */

/**
 * Whether a job of `kind` with `dedupeKey` is queued or running (a schedule that needs no new row).
 *
 * Two lookups, each on its own index: a queued one through the partial unique index jobs_queued_dedupe_idx (its
 * predicate repeated so SQLite may use it), a running one through jobs_lease_idx (few rows). One query with
 * `status IN ('queued', 'running')` walked jobs_kind_idx over every queued job of the kind: a bulk resync asks
 * once per member while queuing them, so 100,000 members took O(n²) row reads (over 15 minutes, bench:memory).
 */
export function hasPendingJob(db: DbOrTx, kind: string, dedupeKey: string): boolean {
  const queued = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.kind, kind), eq(jobs.dedupeKey, dedupeKey), sql`status = 'queued' AND dedupe_key IS NOT NULL`))
    .get();
  if (queued !== undefined) return true;
  const running = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.status, 'running'), eq(jobs.kind, kind), eq(jobs.dedupeKey, dedupeKey)))
    .limit(1)
    .get();
  return running !== undefined;
}

export interface KindDepth {
  kind: string;
  queued: number;
  /** Queued and due now (run_at passed). */
  due: number;
  running: number;
  dead: number;
  /** run_at of the oldest due queued job, or null when none is due. */
  oldestDueAt: number | null;
}

/** Per kind: queued (and due), running and dead jobs, and the oldest due run_at. Done jobs are history, not depth. */
export function summarizeQueue(db: DbOrTx, now: number): KindDepth[] {
  const rows = db
    .select({
      kind: jobs.kind,
      status: jobs.status,
      n: count(),
      due: sql<number>`sum(case when ${jobs.status} = 'queued' and ${jobs.runAt} <= ${now} then 1 else 0 end)`,
      oldestDueAt: min(sql<number | null>`case when ${jobs.status} = 'queued' and ${jobs.runAt} <= ${now} then ${jobs.runAt} end`),
    })
    .from(jobs)
    .where(ne(jobs.status, 'done'))
    .groupBy(jobs.kind, jobs.status)
    .all();
  const byKind = new Map<string, KindDepth>();
  for (const r of rows) {
    const d = byKind.get(r.kind) ?? { kind: r.kind, queued: 0, due: 0, running: 0, dead: 0, oldestDueAt: null };
    if (r.status === 'queued') {
      d.queued += r.n;
      d.due += Number(r.due);
      d.oldestDueAt = r.oldestDueAt === null ? d.oldestDueAt : Number(r.oldestDueAt);
    } else if (r.status === 'running') d.running += r.n;
    else if (r.status === 'dead') d.dead += r.n;
    byKind.set(r.kind, d);
  }
  return [...byKind.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

/** Dead jobs, oldest id first, after `afterId` (paging). */
export function listDeadJobs(db: DbOrTx, o: { limit: number; afterId?: number }): JobRecord[] {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.status, 'dead'), gt(jobs.id, o.afterId ?? 0)))
    .orderBy(asc(jobs.id))
    .limit(o.limit)
    .all();
}

export type RetryOutcome =
  | { kind: 'requeued'; job: JobRecord }
  /** A newer job of the same kind and dedupe key was queued: it carries the newer payload, so this one folds into it. */
  | { kind: 'folded'; job: JobRecord; into: number }
  | { kind: 'missing' }
  | { kind: 'not_retryable'; job: JobRecord };

/**
 * Runs a job again: a dead one is queued with a fresh set of attempts, due
 * now; a queued one waiting for its backoff becomes due now. Running and
 * done jobs are left alone. Call inside a transaction.
 */
export function retryJobNow(tx: DbOrTx, id: number, now: number): RetryOutcome {
  const job = tx.select().from(jobs).where(eq(jobs.id, id)).get();
  if (job === undefined) return { kind: 'missing' };
  if (job.status === 'queued') {
    tx.update(jobs).set({ runAt: sql`min(${jobs.runAt}, ${now})`, updatedAt: now }).where(eq(jobs.id, id)).run();
    return { kind: 'requeued', job };
  }
  if (job.status !== 'dead') return { kind: 'not_retryable', job };
  if (job.dedupeKey !== null) {
    // One queued row per (kind, dedupe key): the same fold as the runner's requeue.
    const sibling = advanceQueuedSibling(tx, { kind: job.kind, dedupeKey: job.dedupeKey }, now, now);
    if (sibling !== null) {
      tx.update(jobs)
        .set({ status: 'done', lastError: `retried by an operator: superseded by job ${sibling} after: ${job.lastError ?? ''}`, updatedAt: now })
        .where(eq(jobs.id, id))
        .run();
      return { kind: 'folded', job, into: sibling };
    }
  }
  tx.update(jobs)
    .set({ status: 'queued', attempts: 0, runAt: now, lockedUntil: null, lockedBy: null, updatedAt: now })
    .where(eq(jobs.id, id))
    .run();
  return { kind: 'requeued', job };
}
