import { and, count, eq, gte, inArray, isNotNull, lt, lte, min, sql, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from './db.ts';
import { jobs } from './schema.ts';

/** The only SQL for the `jobs` table. */

export type JobRecord = typeof jobs.$inferSelect;
export type JobStatus = 'queued' | 'running' | 'done' | 'dead';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'dead'];

/**
 * Identifies one claim of a job. Every write after a claim is fenced on all
 * three: if the lease expired and another worker (or this one) claimed the job
 * again, `attempts` moved on and the stale worker's write matches no row.
 * (Attempts only go back down when a lease ends with a retry-after or a shutdown, so an
 * active lease never shares its `attempts` with an older, stolen one.)
 */
export interface Lease {
  id: number;
  lockedBy: string;
  attempts: number;
}

export interface NewJob {
  kind: string;
  /** JSON text. */
  payload: string;
  dedupeKey: string | null;
  maxAttempts: number;
  runAt: number;
  /** 0 live, -1 bulk (see the column). */
  priority: number;
}

/**
 * Inserts a queued job, or, when a queued job of the same kind and dedupe key
 * exists, collapses into it: its run_at becomes the earlier of the two and its
 * payload the newer one. Returns the id of the row that holds the job.
 */
export function insertOrCollapseJob(tx: DbOrTx, job: NewJob, now: number): number {
  const row = tx
    .insert(jobs)
    .values({
      kind: job.kind,
      payload: job.payload,
      dedupeKey: job.dedupeKey,
      status: 'queued',
      attempts: 0,
      maxAttempts: job.maxAttempts,
      runAt: job.runAt,
      priority: job.priority,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [jobs.kind, jobs.dedupeKey],
      // Must repeat the partial index's predicate for SQLite to pick that index as the conflict target.
      targetWhere: sql`status = 'queued' AND dedupe_key IS NOT NULL`,
      set: {
        runAt: sql`min(${jobs.runAt}, excluded.run_at)`,
        // A live change collapsing into a queued bulk job makes it live.
        priority: sql`max(${jobs.priority}, excluded.priority)`,
        payload: sql`excluded.payload`,
        updatedAt: sql`excluded.updated_at`,
      },
    })
    .returning({ id: jobs.id })
    .get();
  return row.id;
}

/**
 * Compare-and-swap claim of the next due job, prepared once per database:
 * first a running job whose lease expired (its worker died or stalled), then
 * the oldest due live job, then the oldest due bulk job. Each candidate comes from its own index
 * (an OR of the two would make SQLite sort every due row on each claim: with
 * 30,000 queued jobs that cost milliseconds per claim, measured), and the
 * UPDATE re-checks the condition, so two connections can never both take one
 * row. Call it inside an IMMEDIATE transaction.
 */
export function prepareClaimNextJob(db: Db): (opts: { now: number; lockedUntil: number; workerId: string }) => JobRecord | undefined {
  const now = sql.placeholder('now');
  const claim = (candidate: SQL, due: SQL | undefined) =>
    db
      .update(jobs)
      .set({
        status: 'running',
        attempts: sql`${jobs.attempts} + 1`,
        lockedUntil: sql`${sql.placeholder('lockedUntil')}`,
        lockedBy: sql`${sql.placeholder('workerId')}`,
        updatedAt: sql`${now}`,
      })
      .where(and(eq(jobs.id, candidate), due))
      .returning()
      .prepare();
  const expiredLease = and(eq(jobs.status, 'running'), lt(jobs.lockedUntil, now));
  const dueQueued = and(eq(jobs.status, 'queued'), lte(jobs.runAt, now));
  const dueLive = and(dueQueued, gte(jobs.priority, 0));
  const takeExpired = claim(sql`(SELECT ${jobs.id} FROM ${jobs} WHERE ${expiredLease} ORDER BY ${jobs.lockedUntil} LIMIT 1)`, expiredLease);
  // ORDER BY run_at alone: the index (status, run_at, priority, rowid) already gives it, oldest first
  // and in insertion order within a millisecond; adding id would make SQLite sort every due row.
  // A queued job waits while its twin (same kind and dedupe key, e.g. one member's role sync) runs:
  // two syncs of one member at once undo each other's role changes. Running rows are few (the
  // workers' leases), so the twin check walks jobs_lease_idx, not the queue.
  // The live one names its index: SQLite's planner (with or without ANALYZE) keeps choosing jobs_due_idx and steps
  // over every queued bulk row (14 ms a claim at 90,000, against 0.02 ms through jobs_live_due_idx, schema.ts).
  const oldestDue = (live: boolean) =>
    sql`(SELECT c.id FROM jobs AS c ${sql.raw(live ? 'INDEXED BY jobs_live_due_idx ' : '')}WHERE c.status = 'queued' AND c.run_at <= ${now} ${sql.raw(live ? 'AND c.priority >= 0' : '')} AND (c.dedupe_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs AS twin WHERE twin.status = 'running' AND twin.kind = c.kind AND twin.dedupe_key = c.dedupe_key)) ORDER BY c.run_at LIMIT 1)`;
  const takeLive = claim(oldestDue(true), dueLive);
  const takeAny = claim(oldestDue(false), dueQueued);
  return (opts) => takeExpired.get(opts) ?? takeLive.get(opts) ?? takeAny.get(opts);
}

function leaseHeld(lease: Lease) {
  return and(
    eq(jobs.id, lease.id),
    eq(jobs.status, 'running'),
    eq(jobs.lockedBy, lease.lockedBy),
    eq(jobs.attempts, lease.attempts),
  );
}

/** Heartbeat: pushes the lease forward. False when the lease was lost. */
export function extendLease(db: DbOrTx, lease: Lease, lockedUntil: number, now: number): boolean {
  const row = db
    .update(jobs)
    .set({ lockedUntil, updatedAt: now })
    .where(leaseHeld(lease))
    .returning({ id: jobs.id })
    .get();
  return row !== undefined;
}

/** Success: the row stays as `done` (history; a cleanup may prune old ones). False when the lease was lost. */
export function markJobDone(db: DbOrTx, lease: Lease, now: number): boolean {
  const row = db
    .update(jobs)
    .set({ status: 'done', lockedUntil: null, updatedAt: now })
    .where(leaseHeld(lease))
    .returning({ id: jobs.id })
    .get();
  return row !== undefined;
}

export type RequeueOutcome = { kind: 'requeued' } | { kind: 'superseded'; byJobId: number } | { kind: 'lost' };

/**
 * Puts a failed job back in the queue for another try at `runAt`.
 * `countAttempt: false` gives the attempt back (a server's Retry-After, or our
 * own shutdown interrupting the handler).
 *
 * If a job of the same kind and dedupe key was enqueued while this one ran,
 * there is already a queued row and the partial unique index allows only one.
 * That newer job carries the newer payload, which enqueue would have kept
 * anyway, so this run folds into it (its run_at becomes the earlier of the two)
 * and this row ends as `done` with the error recorded. Run inside a transaction.
 */
export function requeueJob(
  db: DbOrTx,
  lease: Lease,
  opts: { runAt: number; countAttempt: boolean; lastError: string; now: number },
): RequeueOutcome {
  const current = db.select().from(jobs).where(leaseHeld(lease)).get();
  if (current === undefined) return { kind: 'lost' };
  if (current.dedupeKey !== null) {
    const sibling = advanceQueuedSibling(db, { kind: current.kind, dedupeKey: current.dedupeKey }, opts.runAt, opts.now);
    if (sibling !== null) {
      db.update(jobs)
        .set({
          status: 'done',
          lockedUntil: null,
          lastError: `superseded by job ${sibling} after: ${opts.lastError}`,
          updatedAt: opts.now,
        })
        .where(leaseHeld(lease))
        .run();
      return { kind: 'superseded', byJobId: sibling };
    }
  }
  db.update(jobs)
    .set({
      status: 'queued',
      attempts: opts.countAttempt ? current.attempts : current.attempts - 1,
      runAt: opts.runAt,
      lockedUntil: null,
      lockedBy: null,
      lastError: opts.lastError,
      updatedAt: opts.now,
    })
    .where(leaseHeld(lease))
    .run();
  return { kind: 'requeued' };
}

/**
 * The queued job of this kind and dedupe key, if any, made due by `runAt` at
 * the latest (its run_at becomes the earlier of the two); returns its id.
 * There is at most one (the partial unique index): a job that cannot be
 * queued again beside it folds into it instead.
 */
export function advanceQueuedSibling(db: DbOrTx, key: { kind: string; dedupeKey: string }, runAt: number, now: number): number | null {
  const sibling = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.kind, key.kind), eq(jobs.dedupeKey, key.dedupeKey), eq(jobs.status, 'queued')))
    .get();
  if (sibling === undefined) return null;
  db.update(jobs).set({ runAt: sql`min(${jobs.runAt}, ${runAt})`, updatedAt: now }).where(eq(jobs.id, sibling.id)).run();
  return sibling.id;
}

/**
 * At start-up, under the instance lock (store/instance-lock.ts): every job
 * still `running` was claimed by a process that is gone, so its lease ends
 * now instead of running out (up to 30 s). The claim takes expired leases
 * first and counts the interrupted attempt, as after any lease expiry; a job
 * that was on its last attempt is dead-lettered by the claim. Returns how
 * many leases ended.
 */
export function expireAllLeases(db: DbOrTx, now: number): number {
  // 0, not `now`: the claim wants locked_until < now, which a clock that does not move (tests) would never give.
  return db.update(jobs).set({ lockedUntil: 0, updatedAt: now }).where(eq(jobs.status, 'running')).returning({ id: jobs.id }).all().length;
}

/** Dead-letter: the row stays visible as `dead` with its last error. False when the lease was lost. */
export function markJobDead(db: DbOrTx, lease: Lease, lastError: string, now: number): boolean {
  const row = db
    .update(jobs)
    .set({ status: 'dead', lockedUntil: null, lastError, updatedAt: now })
    .where(leaseHeld(lease))
    .returning({ id: jobs.id })
    .get();
  return row !== undefined;
}

/** One job by id: /admin resync awaits a member's role sync through it (and issue 15's `jobs retry <id>` looks the job up before requeueing it). */
export function getJob(db: DbOrTx, id: number): JobRecord | undefined {
  return db.select().from(jobs).where(eq(jobs.id, id)).get();
}

/**
 * When the runner should look again: the earliest queued run_at, or the moment
 * just after the earliest running lease expires. Null when nothing is pending.
 */
export function findNextWakeAt(db: DbOrTx): number | null {
  const queued = db
    .select({ at: min(jobs.runAt) })
    .from(jobs)
    .where(eq(jobs.status, 'queued'))
    .get();
  const leased = db
    .select({ at: min(jobs.lockedUntil) })
    .from(jobs)
    .where(and(eq(jobs.status, 'running'), isNotNull(jobs.lockedUntil)))
    .get();
  const candidates = [queued?.at, leased?.at == null ? null : leased.at + 1].filter((v): v is number => v != null);
  return candidates.length === 0 ? null : Math.min(...candidates);
}

/** For /readyz and metrics: how long (ms) the oldest due queued job has waited, or null when none is due. */
export function oldestDueAge(db: DbOrTx, now: number): number | null {
  const row = db
    .select({ at: min(jobs.runAt) })
    .from(jobs)
    .where(and(eq(jobs.status, 'queued'), lte(jobs.runAt, now)))
    .get();
  return row?.at == null ? null : now - row.at;
}

/** For metrics: number of jobs per status (every status present, zero when none). */
export function countByStatus(db: DbOrTx): Record<JobStatus, number> {
  const out: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, dead: 0 };
  const rows = db
    .select({ status: jobs.status, n: count() })
    .from(jobs)
    .where(inArray(jobs.status, [...JOB_STATUSES]))
    .groupBy(jobs.status)
    .all();
  for (const r of rows) out[r.status as JobStatus] = r.n;
  return out;
}

/**
 * Of these jobs, the ones finished (done or dead), for bulk-resync progress. One statement: the ids go in as one
 * JSON array and each is a rowid lookup (CROSS JOIN keeps json_each outside). Filtering `id IN (500 ids) AND
 * status IN (done, dead)` let SQLite walk the status index over every finished job instead, for each slice: at
 * 100,000 resync jobs the once-a-second poll took the whole CPU and the resync slowed to ~30 jobs/s.
 */
export function listFinishedJobs(db: DbOrTx, ids: readonly number[]): { id: number; status: 'done' | 'dead' }[] {
  if (ids.length === 0) return [];
  return db.all<{ id: number; status: 'done' | 'dead' }>(
    sql`SELECT j.id AS id, j.status AS status FROM json_each(${JSON.stringify(ids)}) AS e CROSS JOIN jobs AS j ON j.id = e.value WHERE j.status IN ('done', 'dead')`,
  );
}
