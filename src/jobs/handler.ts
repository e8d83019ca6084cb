import type { Logger } from '../log.ts';
import type { JobDefinition, ParsedJobPayload } from './definitions.ts';
import type { JobRow } from './queue.ts';

/**
 * What a job handler is: the definition it runs (its payload schema is
 * checked when the job is claimed) and a run function. Handlers live above
 * app/, in src/job-handlers/<kind>.ts, each calling one use case; the runner
 * (runner.ts, launch-job.ts) claims, leases, retries and dead-letters around them.
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

/**
 * The handler of each defined kind, by kind. Throws (a start-up error) when a
 * defined kind has no handler or two, or a handler runs a kind not in the
 * list (or another definition under a defined kind's name).
 */
export function indexHandlers(definitions: readonly JobDefinition[], list: readonly JobHandler[]): Map<string, JobHandler> {
  const byKind = new Map<string, JobHandler>();
  const defined = new Map(definitions.map((d) => [d.kind, d]));
  if (defined.size !== definitions.length) throw new Error('job definitions: a kind is defined twice');
  for (const h of list) {
    const kind = h.definition.kind;
    if (defined.get(kind) !== h.definition) throw new Error(`job handler for "${kind}": its definition is not in the runner's list`);
    if (byKind.has(kind)) throw new Error(`job kind "${kind}" has two handlers`);
    byKind.set(kind, h);
  }
  const missing = definitions.filter((d) => !byKind.has(d.kind)).map((d) => d.kind);
  if (missing.length > 0) throw new Error(`no job handler for: ${missing.join(', ')}`);
  return byKind;
}
