import type { z } from 'zod';
import type { Logger } from '../log.ts';
import type { JobRow } from './queue.ts';

/**
 * What a job handler is: a payload schema, checked when the job is claimed,
 * and a run function. Handlers live in handlers/<kind>.ts; the runner
 * (runner.ts) claims, leases, retries and dead-letters around them.
 */

export interface JobContext {
  job: JobRow;
  /** Child logger with { jobId, kind, attempt }. */
  log: Logger;
  now: () => number;
  /** Aborted when the runner stops (after its grace period) or the lease was lost. */
  signal: AbortSignal;
}

export interface JobHandler<S extends z.ZodType = z.ZodType> {
  /** Validates the payload at claim; a payload that fails it is dead-lettered at once. */
  schema: S;
  run(payload: z.infer<S>, ctx: JobContext): Promise<void>;
  /** Per-kind override of the stored max_attempts. */
  maxAttempts?: number;
}

export type Handlers = Record<string, JobHandler>;

/** Identity helper so `run`'s payload type is inferred from `schema`. */
export function defineJobHandler<S extends z.ZodType>(handler: JobHandler<S>): JobHandler<S> {
  return handler;
}
