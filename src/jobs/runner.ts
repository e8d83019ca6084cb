import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { nextWakeAt } from '../store/job-repo.ts';
import { keepLease } from './lease-keeper.ts';
import {
  claimJob,
  completeJob,
  deadLetterJob,
  decideFailure,
  describeThrown,
  retryJob,
  validateClaim,
  type ClaimedJob,
  type OnDead,
} from './queue.ts';
import type { JobDefinition } from './definitions.ts';
import { indexHandlers, type JobHandler } from './handler.ts';

/** SPEC: a job's lease is at most 30 s, so acknowledged work completes within one lease after a crash. */
export const MAX_LEASE_MS = 30_000;

export interface RunnerOptions {
  /** Wakes the runner after each commit that queued a job (Store.onJobQueued). */
  store: Store;
  /** The kinds this runner dispatches (jobs/definitions.ts JOB_DEFINITIONS): each needs exactly one handler. */
  definitions: readonly JobDefinition[];
  handlers: readonly JobHandler[];
  log: Logger;
  /** At most this many handlers run at once. */
  concurrency: number;
  /**
   * Back-pressure: when it returns a positive number of milliseconds, the
   * runner runs one job at a time and waits that long before claiming the
   * next. Lets the service give webhook acknowledgements priority over
   * background work while a burst saturates the event loop.
   */
  throttleMs?: () => number;
  /** Default 30_000, never more (SPEC). Extended every leaseMs/3 while a handler runs. */
  leaseMs?: number;
  /** Longest idle sleep when nothing is due; default 1000. */
  pollMs?: number;
  /** Default Date.now. */
  clock?: () => number;
  /** Default `<hostname>:<pid>:<random>`. */
  workerId?: string;
  /** Called inside the dead-letter transaction. */
  onDead?: OnDead;
  /** Jitter source for backoff, in [0, 1); default Math.random. */
  random?: () => number;
  /** How long stop() lets running handlers finish before aborting their signal, and again after; default 10_000. */
  stopGraceMs?: number;
}

export interface JobRunner {
  start(): void;
  /** Stops claiming and waits for running jobs (aborting them after the grace period). */
  stop(): Promise<void>;
  /**
   * Claim now rather than at the next poll. Jobs queued through the store
   * wake the runner by themselves after commit; this is for what the store
   * cannot see (the webhook writer thread's commits, a clock moved forward).
   */
  wake(): void;
  /** Clock time of the last loop iteration, for /readyz. */
  lastBeat(): number;
  /** Test helper: claims and runs due jobs until none is due and none is running. */
  runUntilIdle(): Promise<void>;
}

interface Running {
  claimed: ClaimedJob;
  controller: AbortController;
  /** Set when stop() aborted the handler: its failure is an interruption, not an attempt. */
  stoppedByUs: boolean;
  /** Set when a heartbeat found the job claimed by another worker: this run's outcome no longer counts. */
  leaseLost: boolean;
  heartbeat: NodeJS.Timeout;
  promise: Promise<void>;
}

type FillResult = 'full' | 'empty' | 'error' | 'stopping' | 'yield' | 'throttled';

/** Claims per fill() beyond the free slots (see fill). */
const CLAIM_BATCH = 32;

export function createJobRunner(o: RunnerOptions): JobRunner {
  const leaseMs = o.leaseMs ?? MAX_LEASE_MS;
  if (!(leaseMs > 0 && leaseMs <= MAX_LEASE_MS)) throw new RangeError(`leaseMs must be in (0, ${MAX_LEASE_MS}], got ${leaseMs}`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${o.concurrency}`);
  const pollMs = o.pollMs ?? 1000;
  const clock = o.clock ?? Date.now;
  const random = o.random ?? Math.random;
  const graceMs = o.stopGraceMs ?? 10_000;
  const workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const { store } = o;
  const handlers = indexHandlers(o.definitions, o.handlers);
  const log = o.log.child({ component: 'job-runner', workerId });

  const active = new Set<Running>();
  let stopping = false;
  /** Back-pressure pacing (see RunnerOptions.throttleMs). */
  let lastThrottledClaim = 0;
  let throttleWait = 0;
  /** After stop() returned: abandoned handlers must not touch a store that may be closed. */
  let closed = false;
  let loopDone: Promise<void> | null = null;
  let stopPromise: Promise<void> | null = null;
  let beat = clock();
  let woken = false;
  let wakeSleeper: (() => void) | null = null;
  let unsubscribe: (() => void) | null = null;

  function wake(): void {
    // While paced, a wake would only re-check the pace: at thousands of webhooks a second that churn is measurable.
    if ((o.throttleMs?.() ?? 0) > 0) return;
    woken = true;
    wakeSleeper?.();
  }

  function sleep(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakeSleeper = null;
        woken = false;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      wakeSleeper = done;
    });
  }

  /**
   * Claims while a slot is free. Synchronous: SQLite calls block anyway. Jobs
   * dead-lettered at claim take no slot, so a run of them (or an onDead that
   * keeps enqueueing jobs that die at claim) is cut into batches: the caller
   * yields to the event loop between batches instead of freezing it.
   */
  function fill(): FillResult {
    const throttle = o.throttleMs?.() ?? 0;
    if (throttle > 0) {
      if (active.size > 0) return 'full';
      // Wall time, not the injectable clock: this paces CPU use, not business time.
      throttleWait = lastThrottledClaim + throttle - performance.now();
      if (throttleWait > 0) return 'throttled';
    }
    const limit = throttle > 0 ? 1 : o.concurrency;
    for (let claims = 0; active.size < limit; claims++) {
      if (stopping) return 'stopping';
      if (claims >= o.concurrency + CLAIM_BATCH) return 'yield';
      let claimed: ClaimedJob | null;
      try {
        claimed = claimJob(store, { now: clock(), leaseMs, workerId });
      } catch (err) {
        log.error({ error: describeThrown(err) }, 'claiming a job failed');
        return 'error';
      }
      if (claimed === null) return 'empty';
      if (throttle > 0) lastThrottledClaim = performance.now();
      launch(claimed);
    }
    return 'full';
  }

  /** Validates a fresh claim and either dead-letters it or starts its handler. */
  function launch(claimed: ClaimedJob): void {
    const { job } = claimed;
    const handler = handlers.get(job.kind);
    const jobLog = log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });

    const checked = validateClaim(claimed, handler?.definition);
    if (!checked.ok || handler === undefined) {
      deadLetter(claimed, checked.ok ? 'unknown job kind' : checked.error, null, jobLog);
      return;
    }
    const payload = checked.payload;

    const controller = new AbortController();
    const heartbeat = keepLease({ store, lease: claimed.lease, leaseMs, clock, log: jobLog }, () => {
      running.leaseLost = true;
      controller.abort(new Error('job lease lost'));
    });

    const running: Running = { claimed, controller, stoppedByUs: false, leaseLost: false, heartbeat, promise: Promise.resolve() };
    active.add(running);
    running.promise = execute(running, handler, payload, jobLog).finally(() => {
      clearInterval(heartbeat);
      active.delete(running);
      wake();
    });
  }

  async function execute(r: Running, handler: JobHandler, payload: unknown, jobLog: Logger): Promise<void> {
    const { job, lease } = r.claimed;
    const started = clock();
    jobLog.debug('job started');
    let failure: { err: unknown } | null = null;
    try {
      await handler.run(payload, { job, log: jobLog, now: clock, signal: r.controller.signal });
    } catch (err) {
      failure = { err };
    }
    if (closed) {
      jobLog.warn('job finished after the runner stopped; its lease will expire and it will run again');
      return;
    }
    try {
      if (failure === null) {
        if (completeJob(store, lease, clock())) jobLog.info({ ms: clock() - started }, 'job done');
        else jobLog.warn('job finished but its lease was lost; another worker owns it now');
      } else {
        settleFailure(r, failure.err, jobLog);
      }
    } catch (err) {
      // The lease will expire and the job will be claimed again: at-least-once, never lost.
      jobLog.error({ error: describeThrown(err) }, 'recording the job outcome failed');
    }
  }

  function settleFailure(r: Running, err: unknown, jobLog: Logger): void {
    const { job, lease } = r.claimed;
    const error = describeThrown(err);
    const code = err instanceof ConciergeError ? err.code : null;
    const now = clock();

    if (r.leaseLost) {
      jobLog.warn({ code, error }, 'job failed after its lease was lost; another worker owns it now');
      return;
    }
    if (r.stoppedByUs) {
      const outcome = retryJob(store, lease, { runAt: now, countAttempt: false, error: `interrupted by shutdown: ${error}`, now });
      jobLog.info({ outcome: outcome.kind }, 'job interrupted by shutdown; requeued without using an attempt');
      return;
    }
    const decision = decideFailure(job, err, now, random());
    if (decision.kind === 'dead') {
      deadLetter(r.claimed, error, code, jobLog);
      return;
    }
    const outcome = retryJob(store, lease, { runAt: decision.runAt, countAttempt: decision.countAttempt, error, now });
    const fields = { code, error, delayMs: decision.runAt - now, maxAttempts: job.maxAttempts, outcome: outcome.kind };
    if (decision.countAttempt) jobLog.warn(fields, 'job failed; will retry');
    else jobLog.warn(fields, 'job asked to retry later (attempt not counted)');
  }

  function deadLetter(claimed: ClaimedJob, error: string, code: string | null, jobLog: Logger): void {
    try {
      const outcome = deadLetterJob(store, claimed, error, clock(), o.onDead);
      if (outcome.kind === 'lost') {
        jobLog.warn({ code, error }, 'job failed but its lease was lost; another worker owns it now');
        return;
      }
      if (outcome.hookError !== null) jobLog.error({ error: describeThrown(outcome.hookError) }, 'onDead hook failed; dead-lettered without it');
      jobLog.error({ code, error, maxAttempts: claimed.job.maxAttempts }, 'job dead-lettered');
    } catch (err) {
      jobLog.error({ code, error, writeError: describeThrown(err) }, 'dead-lettering the job failed; it will be reclaimed when its lease expires');
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      beat = clock();
      const result = fill();
      if (result === 'stopping') break;
      let delay = result === 'yield' ? 0 : result === 'throttled' ? throttleWait : pollMs;
      if (result === 'empty') {
        try {
          const next = nextWakeAt(store.db);
          if (next !== null) delay = Math.min(pollMs, Math.max(0, next - clock()));
        } catch (err) {
          log.error({ error: describeThrown(err) }, 'reading the next job time failed');
        }
      }
      // 'full': a finishing job wakes us; 'error': back off for a poll.
      await sleep(delay);
    }
  }

  function settledWithin(ms: number): Promise<boolean> {
    if (active.size === 0) return Promise.resolve(true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const all = Promise.all([...active].map((r) => r.promise)).then(() => true);
    return Promise.race([all, timeout]).finally(() => clearTimeout(timer));
  }

  return {
    start() {
      if (loopDone !== null || stopping) return;
      log.info({ concurrency: o.concurrency, leaseMs, pollMs }, 'job runner started');
      unsubscribe = store.onJobQueued(wake);
      loopDone = loop().catch((err: unknown) => {
        log.fatal({ error: describeThrown(err) }, 'job runner loop crashed');
      });
    },

    stop() {
      stopPromise ??= (async () => {
        stopping = true;
        unsubscribe?.();
        wake();
        await loopDone;
        if (!(await settledWithin(graceMs))) {
          log.warn({ running: active.size }, 'aborting running jobs after the stop grace period');
          for (const r of active) {
            r.stoppedByUs = true;
            r.controller.abort(new Error('job runner stopping'));
          }
          if (!(await settledWithin(graceMs))) {
            log.error({ running: active.size }, 'jobs ignored the abort; leaving them to lease expiry');
            for (const r of active) clearInterval(r.heartbeat);
          }
        }
        closed = true;
        log.info('job runner stopped');
      })();
      return stopPromise;
    },

    wake,

    lastBeat: () => beat,

    async runUntilIdle() {
      for (;;) {
        beat = clock();
        const result = fill();
        if (result === 'yield') {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        if (result === 'throttled') {
          await new Promise((resolve) => setTimeout(resolve, throttleWait));
          continue;
        }
        if (active.size === 0) return;
        await Promise.race([...active].map((r) => r.promise));
      }
    },
  };
}
