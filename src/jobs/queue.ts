import { ConciergeError, isPermanent } from '../errors.ts';
import { insertAudit } from '../store/audit-repo.ts';
import { signalJobQueued, type Store, type Tx } from '../store/db.ts';
import {
  prepareClaimNextJob,
  insertOrCollapseJob,
  markJobDead,
  markJobDone,
  requeueJob,
  type JobRecord,
  type Lease,
  type RequeueOutcome,
} from '../store/job-repo.ts';
import { computeBackoffMs } from './backoff.ts';
import type { JOB_DEFINITIONS, JobDefinition, JobPayload } from './definitions.ts';

/**
 * The job queue's verbs: enqueue, claim, complete, retry, dead-letter. SQL
 * lives in store/job-repo.ts; when to claim is runner.ts, which verb ends a
 * claimed job is launch-job.ts.
 */

export interface EnqueueOptions {
  /** Earliest run time (ms epoch); default `now`. */
  runAt?: number;
  /** At most one *queued* job per (kind, dedupeKey); see enqueue. */
  dedupeKey?: string;
}

/** A claimed job as handlers and hooks see it. */
export interface JobRow {
  id: number;
  kind: string;
  /** Parsed JSON, not yet validated (the runner validates it with the definition's schema). */
  payload: unknown;
  /** After a claim, includes the current run. */
  attempts: number;
  /** As stored at enqueue, from the definition. */
  maxAttempts: number;
  runAt: number;
  dedupeKey: string | null;
  /** When it was queued (for a webhook's processing job: when the delivery was acknowledged). */
  createdAt: number;
}

/** The kinds app/ may enqueue: the catalogue's definitions. */
export type CatalogueJob = (typeof JOB_DEFINITIONS)[number];

/**
 * Adds a job of a catalogue kind inside the CALLER's transaction, so a
 * webhook's inbox insert and its job commit (or roll back) together; the
 * payload's type is the definition's. With a dedupeKey and an already-queued
 * job of the same kind and key, no row is added: the queued job's run_at
 * becomes min(existing, new) and its payload is replaced by the new one. A
 * running or finished job with that key does not collapse (it may have read
 * its state already), so a new job is queued behind it. Returns the job id
 * (existing or new). The store wakes the runner once the transaction commits.
 */
export function enqueue<D extends CatalogueJob>(tx: Tx, definition: D, payload: JobPayload<D>, now: number, opts: EnqueueOptions = {}): number {
  // Widened: over the catalogue's union, `priority` would want a payload of every kind at once.
  const def: JobDefinition = definition;
  const { kind, maxAttempts } = def;
  const runAt = opts.runAt ?? now;
  if (!Number.isFinite(runAt)) throw new RangeError(`enqueue ${kind}: runAt must be a finite number, got ${runAt}`);
  const priority = def.priority?.(payload) === 'bulk' ? -1 : 0;
  const id = insertOrCollapseJob(tx, { kind, payload: JSON.stringify(payload ?? null), dedupeKey: opts.dedupeKey ?? null, maxAttempts, runAt, priority }, now);
  signalJobQueued(tx);
  return id;
}

export interface ClaimedJob {
  job: JobRow;
  /** Fences every later write to this claim. */
  lease: Lease;
  /** The stored payload as text (kept for the dead-letter record when it is not valid JSON). */
  rawPayload: string;
  /** Set when the stored payload is not valid JSON. */
  payloadError: string | null;
}

function toClaimed(rec: JobRecord, workerId: string): ClaimedJob {
  let payload: unknown = undefined;
  let payloadError: string | null = null;
  try {
    payload = JSON.parse(rec.payload);
  } catch (err) {
    payloadError = `payload is not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  return {
    job: {
      id: rec.id,
      kind: rec.kind,
      payload,
      attempts: rec.attempts,
      maxAttempts: rec.maxAttempts,
      runAt: rec.runAt,
      dedupeKey: rec.dedupeKey,
      createdAt: rec.createdAt,
    },
    lease: { id: rec.id, lockedBy: workerId, attempts: rec.attempts },
    rawPayload: rec.payload,
    payloadError,
  };
}

/**
 * Claims the oldest due job (or one whose lease expired) for `leaseMs`, in one
 * IMMEDIATE transaction: two processes on one database never get the same claim.
 */
const claimers = new WeakMap<Store, ReturnType<typeof prepareClaimNextJob>>();

export function claimJob(store: Store, opts: { now: number; leaseMs: number; workerId: string }): ClaimedJob | null {
  let claim = claimers.get(store);
  if (claim === undefined) {
    claim = prepareClaimNextJob(store.db);
    claimers.set(store, claim);
  }
  const claimNext = claim;
  const rec = store.transaction(() => claimNext({ now: opts.now, lockedUntil: opts.now + opts.leaseMs, workerId: opts.workerId }));
  return rec === undefined ? null : toClaimed(rec, opts.workerId);
}

export type ClaimCheck = { ok: true; payload: unknown } | { ok: false; error: string };

/**
 * Whether a fresh claim may run: its kind has a handler (given here as its
 * definition), its payload is JSON that the definition's schema accepts, and
 * it has an attempt left (by the max_attempts stored at enqueue). Anything
 * else is permanent: the caller dead-letters it without running it.
 */
export function validateClaim(claimed: ClaimedJob, definition: JobDefinition | undefined): ClaimCheck {
  const { job } = claimed;
  if (definition === undefined) return { ok: false, error: `unknown job kind "${job.kind}"` };
  if (claimed.payloadError !== null) return { ok: false, error: claimed.payloadError };
  if (job.attempts > job.maxAttempts) {
    // Only reachable through an expired lease: the worker died during the last allowed attempt.
    return { ok: false, error: `lease expired during the last attempt (${job.attempts - 1} of ${job.maxAttempts}); the worker died or stalled` };
  }
  const parsed = definition.schema.safeParse(job.payload);
  if (parsed.success) return { ok: true, payload: parsed.data };
  // Issue paths and messages only: zod's messages name fields and types, not the values.
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, error: `invalid payload: ${issues.join('; ')}` };
}

export type FailureDecision = { kind: 'dead' } | { kind: 'retry'; runAt: number; countAttempt: boolean };

/**
 * What a failed run leads to. A permanent error (retry: false) dead-letters at
 * once. A server's Retry-After (e.g. a 429) waits exactly that long and gives
 * the attempt back (liteque's RetryAfterError). Anything else, unknown errors
 * included, is retried with backoff while attempts remain: an error is never
 * read as "not paid". `random` in [0, 1) jitters the backoff.
 */
export function decideFailure(job: Pick<JobRow, 'attempts' | 'maxAttempts'>, err: unknown, now: number, random: number): FailureDecision {
  if (isPermanent(err)) return { kind: 'dead' };
  if (err instanceof ConciergeError && err.retryAfterMs !== null) {
    return { kind: 'retry', runAt: now + Math.max(0, err.retryAfterMs), countAttempt: false };
  }
  if (job.attempts < job.maxAttempts) return { kind: 'retry', runAt: now + computeBackoffMs(job.attempts, random), countAttempt: true };
  return { kind: 'dead' };
}

/** Marks the claim done. False when the lease was lost (another worker holds the job now). */
export function completeJob(store: Store, lease: Lease, now: number): boolean {
  return markJobDone(store.db, lease, now);
}

/** Puts the claim back in the queue for `runAt`; see requeueJob for the outcomes. */
export function retryJob(
  store: Store,
  lease: Lease,
  opts: { runAt: number; countAttempt: boolean; error: string; now: number },
): RequeueOutcome {
  return store.transaction((tx) =>
    requeueJob(tx, lease, { runAt: opts.runAt, countAttempt: opts.countAttempt, lastError: opts.error, now: opts.now }),
  );
}

/** Called inside the dead-letter transaction with the 'job.dead' audit entry (id null if it was already recorded). */
export type OnDead = (tx: Tx, job: JobRow, error: string, audit: { id: number | null; at: number }) => void;

export type DeadLetterOutcome = { kind: 'dead'; hookError: unknown } | { kind: 'lost' };

/**
 * Dead-letters a claim in ONE transaction: status dead with its error, a
 * 'job.dead' audit entry, then `onDead` (the app enqueues the audit-channel
 * post there, so it commits with the rest).
 *
 * If onDead throws, that transaction rolls back and the job is dead-lettered
 * again without the hook (the audit entry notes it): otherwise the job would
 * stay running, be reclaimed after every lease and fail the hook forever.
 */
export function deadLetterJob(store: Store, claimed: ClaimedJob, error: string, now: number, onDead?: OnDead): DeadLetterOutcome {
  const { job, lease } = claimed;
  const write = (hook: OnDead | undefined, hookError: unknown): boolean =>
    store.transaction((tx) => {
      if (!markJobDead(tx, lease, error, now)) return false;
      const auditId = insertAudit(tx, {
        at: now,
        kind: 'job.dead',
        severity: 'danger',
        memberId: null,
        subscriptionId: null,
        eventId: null,
        dedupeKey: `job.dead:${job.id}`,
        message: `Job ${job.kind} #${job.id} dead-lettered after ${job.attempts} attempt(s): ${error}`,
        data: JSON.stringify({
          jobId: job.id,
          kind: job.kind,
          attempts: job.attempts,
          maxAttempts: job.maxAttempts,
          dedupeKey: job.dedupeKey,
          payload: claimed.payloadError === null ? job.payload : claimed.rawPayload,
          error,
          ...(hookError === null ? {} : { onDeadError: describeThrown(hookError) }),
        }),
      });
      hook?.(tx, job, error, { id: auditId, at: now });
      return true;
    });

  let hookThrew = false;
  let hookError: unknown = null;
  const guarded: OnDead | undefined =
    onDead === undefined
      ? undefined
      : (tx, j, e, a) => {
          try {
            onDead(tx, j, e, a);
          } catch (err) {
            hookThrew = true;
            hookError = err;
            throw err;
          }
        };
  try {
    return write(guarded, null) ? { kind: 'dead', hookError: null } : { kind: 'lost' };
  } catch (err) {
    if (!hookThrew) throw err;
    return write(undefined, hookError) ? { kind: 'dead', hookError } : { kind: 'lost' };
  }
}

/** One line for last_error and logs: code and message, never a payload or a stack. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const prefix = typeof code === 'string' && code !== '' ? code : err.name;
    return truncate(`${prefix}: ${err.message}`);
  }
  return truncate(`non-error thrown: ${String(err)}`);
}

function truncate(s: string): string {
  return s.length <= 2000 ? s : `${s.slice(0, 1997)}...`;
}
