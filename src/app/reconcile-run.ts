import type { ReconcileCheck, ReconcileReport } from '../core/reconcile.ts';
import { ConciergeError, isPermanent } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import type { TiersSource } from '../tiers.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * What the three checks of a reconciliation run share (app/reconcile.ts runs
 * them): the report they add to, PayPal calls paced and retried, and the
 * reasons to stop early (PayPal unreachable, the caller's deadline or abort).
 */

export interface ReconcileProgress {
  check: ReconcileCheck;
  done: number;
  /** Null while the total is not known yet (the events list is paged). */
  total: number | null;
}

export interface RunOptions {
  dryRun: boolean;
  /** Aborted: the run stops at the next item (service shutdown). */
  signal?: AbortSignal;
  /** The run stops at the next item after this time (an interaction's reply window). */
  deadlineAt?: number;
  onProgress?: (p: ReconcileProgress) => void;
}

export interface RunPacing {
  /** Least time between two PayPal calls; default 100 ms (10 a second). */
  paypalIntervalMs?: number;
  /** Waits before each retry of a PayPal call that failed with a retryable error; default 2 s, 10 s, 30 s. */
  retryDelaysMs?: readonly number[];
}

export interface RunBase extends RunPacing {
  store: Store;
  tiers: TiersSource;
  clock: () => number;
  log: Logger;
  /** A subscription PayPal reports differently recomputes its member: serials and marketplace sync follow. */
  effects: MemberEffects;
}

/** Why a run ended before its end: said in the report, and the CLI exits non-zero. */
export class ReconcileStopped extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcileStopped';
  }
}

/**
 * PayPal publishes no numbers; its guidance is to stay well below what
 * triggers a 429 and back off on one. Ten reads a second re-reads 10,000
 * subscriptions in under 17 minutes, a small share of an hourly schedule.
 */
const DEFAULT_INTERVAL_MS = 100;
const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [2_000, 10_000, 30_000];
/** A Retry-After longer than this is PayPal saying "not now": the run stops instead of holding on. */
const MAX_RETRY_AFTER_MS = 120_000;

export interface RunContext {
  base: RunBase;
  o: RunOptions;
  report: ReconcileReport;
  /** Throws ReconcileStopped when aborted or past the deadline. */
  checkStop(): void;
  /** A PayPal call, paced, retried on retryable failures; throws ReconcileStopped when PayPal stays unreachable, or the call's own permanent error. */
  callPaypal<T>(what: string, call: () => Promise<T>): Promise<T>;
  progress(check: ReconcileCheck, done: number, total: number | null): void;
}

export function createRunContext(base: RunBase, o: RunOptions, report: ReconcileReport): RunContext {
  const interval = base.paypalIntervalMs ?? DEFAULT_INTERVAL_MS;
  const delays = base.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  let nextCallAt = 0;

  function checkStop(): void {
    if (o.signal?.aborted === true) throw new ReconcileStopped('stopped: Concierge is shutting down');
    if (o.deadlineAt !== undefined && base.clock() >= o.deadlineAt) throw new ReconcileStopped('stopped at its time limit before every check ran');
  }

  async function wait(ms: number): Promise<void> {
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        o.signal?.removeEventListener('abort', done);
        resolve();
      }
      o.signal?.addEventListener('abort', done, { once: true });
    });
    checkStop();
  }

  async function callPaypal<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      checkStop();
      // Real time, not the service clock: pacing is about PayPal's rate, which a test's fake clock does not move.
      await wait(nextCallAt - Date.now());
      nextCallAt = Date.now() + interval;
      try {
        return await call();
      } catch (err) {
        if (isPermanent(err) || err instanceof ReconcileStopped) throw err;
        const retryAfter = err instanceof ConciergeError ? (err.retryAfterMs ?? 0) : 0;
        const delay = delays[attempt];
        const message = err instanceof Error ? err.message : String(err);
        if (delay === undefined || retryAfter > MAX_RETRY_AFTER_MS) {
          throw new ReconcileStopped(`PayPal unreachable (${what}, ${attempt + 1} attempt(s)): ${message}; nothing was revoked`);
        }
        base.log.warn({ what, attempt: attempt + 1, delayMs: Math.max(delay, retryAfter), error: message }, 'PayPal call failed during reconciliation; retrying');
        await wait(Math.max(delay, retryAfter));
      }
    }
  }

  return {
    base,
    o,
    report,
    checkStop,
    callPaypal,
    progress: (check, done, total) => o.onProgress?.({ check, done, total }),
  };
}
