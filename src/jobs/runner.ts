import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { findNextWakeAt } from '../store/job-repo.ts';
import { claimJob, describeThrown, type ClaimedJob, type OnDead } from './queue.ts';
import type { JobDefinition } from './definitions.ts';
import { indexHandlers, type JobHandler } from './handler.ts';
import { launchJob, type JobEnvironment, type JobObserver, type RunningJob } from './launch-job.ts';

/**
 * The job runner: claims due jobs while a slot is free (at most `concurrency`
 * at once, one at a time while back-pressure paces it), sleeps until the next
 * one is due or a commit wakes it, and stops gracefully. What happens to one
 * claimed job, from validation to its recorded outcome, is launch-job.ts.
 */

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
  /** Monitoring: completions, retries and dead letters by kind. */
  observer?: JobObserver;
  /** Jitter source for backoff, in [0, 1); default Math.random. */
  random?: () => number;
  /** How long stop() lets running handlers finish before aborting their signal; default 10_000. */
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
  /**
   * Claims and runs due jobs until none is due and none is running. Only
   * tests call it (the e2e harness's settle(), through Service.runner); it
   * leaves this interface when the Service handle stops exposing the runner
   * and tests reach it through a test helper (issue 13, item 4, service.ts).
   */
  runUntilIdle(): Promise<void>;
}

type FillResult = 'full' | 'empty' | 'error' | 'stopping' | 'yield' | 'throttled';

/**
 * After the abort, how long stop() waits for handlers to give up: one that honours its signal records its
 * interruption (requeued without using an attempt) within milliseconds. One that does not is left `running`:
 * the next start ends its lease at once (store/job-repo.ts expireAllLeases) and runs it again.
 */
const ABORT_WAIT_MS = 2_000;

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

  const active = new Set<RunningJob>();
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

  const env: JobEnvironment = { store, log, handlers, leaseMs, clock, random, onDead: o.onDead, observer: o.observer, active, wake, closed: () => closed };

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
      launchJob(env, claimed);
    }
    return 'full';
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      beat = clock();
      const result = fill();
      if (result === 'stopping') break;
      let delay = result === 'yield' ? 0 : result === 'throttled' ? throttleWait : pollMs;
      if (result === 'empty') {
        try {
          const next = findNextWakeAt(store.db);
          if (next !== null) delay = Math.min(pollMs, Math.max(0, next - clock()));
        } catch (err) {
          log.error({ error: describeThrown(err) }, 'reading the next job time failed');
        }
      }
      // 'full': a finishing job wakes us; 'error': back off for a poll.
      await sleep(delay);
      // A wake settles the sleep as a microtask. Jobs that finish without I/O (a bulk resync's role syncs of members
      // already right) would then chain claim → run → wake in microtasks alone, and HTTP and the gateway would wait
      // for the whole queue: measured, /metrics unanswered for minutes while 100,000 such jobs ran (bench:memory).
      await new Promise((resolve) => setImmediate(resolve));
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
          if (!(await settledWithin(Math.min(graceMs, ABORT_WAIT_MS)))) {
            log.error({ running: active.size }, 'jobs ignored the abort; the next start runs them again');
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
