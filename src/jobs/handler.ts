import type { Logger } from '../log.ts';
import type { JobDefinition, ParsedJobPayload } from './definitions.ts';
import type { JobRow } from './queue.ts';

/**
 * What a job handler is: the definition it runs (its payload schema is
 * checked when the job is claimed) and a run function. Handlers live in
 * handlers/<kind>.ts; the runner (runner.ts) claims, leases, retries and
 * dead-letters around them.
 */

export interface JobContext {
  job: JobRow;
  /** Child logger with { jobId, kind, attempt }. */
  log: Logger;
  now: () => number;
  /** Aborted when the runner stops (after its grace period) or the lease was lost. */
  signal: AbortSignal;
}

export interface JobHandler<D extends JobDefinition = JobDefinition> {
  definition: D;
  /** Method syntax: a handler of a narrower payload is still a JobHandler. */
  run(payload: ParsedJobPayload<D>, ctx: JobContext): Promise<void>;
}

/** One handler per definition; `run`'s payload type comes from the definition's schema. */
export function handleJob<D extends JobDefinition>(definition: D, run: (payload: ParsedJobPayload<D>, ctx: JobContext) => Promise<void>): JobHandler<D> {
  return { definition, run };
}
