import { createFaults as createSharedFaults, type BaseFaultSpec, type FaultHandle } from '../faults.ts';

/**
 * Injected failures for REST requests matching a method and a path (the
 * path after `/api/v10`, e.g. `/guilds/1/members/2/roles/3`): a status with
 * Discord's body, latency, or a dropped connection. The first matching fault
 * wins; each use counts against its `times`.
 */

export interface FaultSpec extends BaseFaultSpec {
  /** For a 429: seconds, sent as `Retry-After`, `X-RateLimit-Reset-After` and `retry_after`; default 1. */
  retryAfter?: number;
  /** For a 429: `X-RateLimit-Scope` (`user`, `shared`); default `user`. */
  scope?: string;
  /**
   * Handle the request first (its effect happens and its gateway events go
   * out), then apply the delay, drop or status to the answer only: a write
   * that reached Discord whose answer is late, lost or an error, e.g. to stop
   * a worker between Discord's change and the job's completion.
   */
  afterEffect?: boolean;
}

export type { FaultHandle };

export function defaultFaultBody(spec: FaultSpec): unknown {
  if (spec.body !== undefined) return spec.body;
  const status = spec.status ?? 500;
  if (status === 429) return { message: 'You are being rate limited.', retry_after: spec.retryAfter ?? 1, global: false };
  if (status >= 500) return { message: `${status}: ${status === 500 ? 'Internal Server Error' : 'Service Unavailable'}`, code: 0 };
  return { message: `${status}: Injected fault`, code: 0 };
}

export const createFaults = () => createSharedFaults<FaultSpec>();
