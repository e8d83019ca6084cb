import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import type { JobHandler } from './handler.ts';
import { keepLease } from './lease-keeper.ts';
import { completeJob, deadLetterJob, decideFailure, describeThrown, retryJob, validateClaim, type ClaimedJob, type OnDead } from './queue.ts';

/**
 * One claimed job from start to recorded outcome, for the runner (runner.ts),
 * which decides when to claim: validate the claim, keep its lease alive while
 * the handler runs, then mark it done, retry it with backoff, or dead-letter it.
 */

export interface RunningJob {
  claimed: ClaimedJob;
  controller: AbortController;
  /** Set when stop() aborted the handler: its failure is an interruption, not an attempt. */
  stoppedByUs: boolean;
  /** Set when a heartbeat found the job claimed by another worker: this run's outcome no longer counts. */
  leaseLost: boolean;
  heartbeat: NodeJS.Timeout;
  promise: Promise<void>;
}

/**
 * What the runner tells monitoring (service.ts wires it to src/metrics). Called
 * after the outcome is recorded; must be synchronous and cheap.
 */
export interface JobObserver {
  /** `job.createdAt` to `now`: for a webhook's processing job, acknowledged → processed. */
  completed(job: { kind: string; createdAt: number }, now: number): void;
  /** Failed and queued again (also when the attempt was not counted: a 429's retry-after). */
  retried(kind: string): void;
  deadLettered(kind: string): void;
}

/** What every job of one runner shares. */
export interface JobEnvironment {
  store: Store;
  /** The runner's logger; each job gets a child with { jobId, kind, attempt }. */
  log: Logger;
  handlers: ReadonlyMap<string, JobHandler>;
  leaseMs: number;
  clock: () => number;
  /** Jitter source for backoff, in [0, 1). */
  random: () => number;
  onDead: OnDead | undefined;
  observer: JobObserver | undefined;
  /** The runner's running jobs: a launched job is in it until its outcome is recorded. */
  active: Set<RunningJob>;
  /** Called when a job leaves `active`: a slot is free. */
  wake: () => void;
  /** True after the runner stopped: a handler that finishes later must not touch a store that may be closed. */
  closed: () => boolean;
}

/** Validates a fresh claim and either dead-letters it or starts its handler (adding it to env.active). */
export function launchJob(env: JobEnvironment, claimed: ClaimedJob): void {
  const { job } = claimed;
  const handler = env.handlers.get(job.kind);
  const jobLog = env.log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });

  const checked = validateClaim(claimed, handler?.definition);
  if (!checked.ok || handler === undefined) {
    deadLetter(env, claimed, checked.ok ? 'unknown job kind' : checked.error, null, jobLog);
    return;
  }
  const payload = checked.payload;

  const controller = new AbortController();
  const heartbeat = keepLease({ store: env.store, lease: claimed.lease, leaseMs: env.leaseMs, clock: env.clock, log: jobLog }, () => {
    running.leaseLost = true;
    controller.abort(new Error('job lease lost'));
  });

  const running: RunningJob = { claimed, controller, stoppedByUs: false, leaseLost: false, heartbeat, promise: Promise.resolve() };
  env.active.add(running);
  running.promise = execute(env, running, handler, payload, jobLog).finally(() => {
    clearInterval(heartbeat);
    env.active.delete(running);
    env.wake();
  });
}

async function execute(env: JobEnvironment, r: RunningJob, handler: JobHandler, payload: unknown, jobLog: Logger): Promise<void> {
  const { job, lease } = r.claimed;
  const { store, clock } = env;
  const started = clock();
  jobLog.debug('job started');
  let failure: { err: unknown } | null = null;
  try {
    await handler.run(payload, { job, log: jobLog, now: clock, signal: r.controller.signal });
  } catch (err) {
    failure = { err };
  }
  if (env.closed()) {
    jobLog.warn('job finished after the runner stopped; its lease will expire and it will run again');
    return;
  }
  try {
    if (failure === null) {
      if (completeJob(store, lease, clock())) {
        jobLog.info({ ms: clock() - started }, 'job done');
        env.observer?.completed(job, clock());
      } else jobLog.warn('job finished but its lease was lost; another worker owns it now');
    } else {
      settleFailure(env, r, failure.err, jobLog);
    }
  } catch (err) {
    // The lease will expire and the job will be claimed again: at-least-once, never lost.
    jobLog.error({ error: describeThrown(err) }, 'recording the job outcome failed');
  }
}

function settleFailure(env: JobEnvironment, r: RunningJob, err: unknown, jobLog: Logger): void {
  const { job, lease } = r.claimed;
  const { store } = env;
  const error = describeThrown(err);
  const code = err instanceof ConciergeError ? err.code : null;
  const now = env.clock();

  if (r.leaseLost) {
    jobLog.warn({ code, error }, 'job failed after its lease was lost; another worker owns it now');
    return;
  }
  if (r.stoppedByUs) {
    const outcome = retryJob(store, lease, { runAt: now, countAttempt: false, error: `interrupted by shutdown: ${error}`, now });
    jobLog.info({ outcome: outcome.kind }, 'job interrupted by shutdown; requeued without using an attempt');
    return;
  }
  const decision = decideFailure(job, err, now, env.random());
  if (decision.kind === 'dead') {
    deadLetter(env, r.claimed, error, code, jobLog);
    return;
  }
  const outcome = retryJob(store, lease, { runAt: decision.runAt, countAttempt: decision.countAttempt, error, now });
  if (outcome.kind !== 'lost') env.observer?.retried(job.kind);
  const fields = { code, error, delayMs: decision.runAt - now, maxAttempts: job.maxAttempts, outcome: outcome.kind };
  if (decision.countAttempt) jobLog.warn(fields, 'job failed; will retry');
  else jobLog.warn(fields, 'job asked to retry later (attempt not counted)');
}

function deadLetter(env: JobEnvironment, claimed: ClaimedJob, error: string, code: string | null, jobLog: Logger): void {
  try {
    const outcome = deadLetterJob(env.store, claimed, error, env.clock(), env.onDead);
    if (outcome.kind === 'lost') {
      jobLog.warn({ code, error }, 'job failed but its lease was lost; another worker owns it now');
      return;
    }
    env.observer?.deadLettered(claimed.job.kind);
    if (outcome.hookError !== null) jobLog.error({ error: describeThrown(outcome.hookError) }, 'onDead hook failed; dead-lettered without it');
    jobLog.error({ code, error, maxAttempts: claimed.job.maxAttempts }, 'job dead-lettered');
  } catch (err) {
    jobLog.error({ code, error, writeError: describeThrown(err) }, 'dead-lettering the job failed; it will be reclaimed when its lease expires');
  }
}
