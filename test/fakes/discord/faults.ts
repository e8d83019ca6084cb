/**
 * Injected failures for REST requests matching a method and a path (the
 * path after `/api/v10`, e.g. `/guilds/1/members/2/roles/3`): a status with
 * Discord's body, latency, or a dropped connection. The first matching fault
 * wins; each use counts against its `times`.
 */

export interface FaultSpec {
  /** `GET`, `PUT`…; any method when left out. */
  method?: string;
  /** A string matches the exact path (no query); a RegExp is tested against it. Any path when left out. */
  path?: RegExp | string;
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** The body; default Discord's for the status. */
  body?: unknown;
  /** How many matching requests to affect; default every one. */
  times?: number;
  /** Wait this long before answering (with the fault, or normally when there is no status). */
  delayMs?: number;
  /** For a 429: seconds, sent as `Retry-After`, `X-RateLimit-Reset-After` and `retry_after`; default 1. */
  retryAfter?: number;
  /** For a 429: `X-RateLimit-Scope` (`user`, `shared`); default `user`. */
  scope?: string;
  /** Destroy the socket without an answer. */
  drop?: boolean;
}

export interface FaultHandle {
  clear(): void;
  /** How many requests this fault has affected so far. */
  readonly hits: number;
}

interface ActiveFault {
  spec: FaultSpec;
  remaining: number;
  hits: number;
}

export function defaultFaultBody(spec: FaultSpec): unknown {
  if (spec.body !== undefined) return spec.body;
  const status = spec.status ?? 500;
  if (status === 429) return { message: 'You are being rate limited.', retry_after: spec.retryAfter ?? 1, global: false };
  if (status >= 500) return { message: `${status}: ${status === 500 ? 'Internal Server Error' : 'Service Unavailable'}`, code: 0 };
  return { message: `${status}: Injected fault`, code: 0 };
}

export function createFaults() {
  let faults: ActiveFault[] = [];

  function matches(spec: FaultSpec, method: string, path: string): boolean {
    if (spec.method && spec.method.toUpperCase() !== method) return false;
    if (spec.path === undefined) return true;
    if (typeof spec.path === 'string') return spec.path === path;
    spec.path.lastIndex = 0; // a /g or /y RegExp would otherwise resume where the last test stopped
    return spec.path.test(path);
  }

  return {
    add(spec: FaultSpec): FaultHandle {
      const f: ActiveFault = { spec, remaining: spec.times ?? Number.POSITIVE_INFINITY, hits: 0 };
      faults.push(f);
      return {
        clear: () => {
          faults = faults.filter((x) => x !== f);
        },
        get hits() {
          return f.hits;
        },
      };
    },
    /** The fault to apply to this request, if any, counted as used. */
    take(method: string, path: string): FaultSpec | undefined {
      const f = faults.find((x) => x.remaining > 0 && matches(x.spec, method, path));
      if (!f) return undefined;
      f.remaining -= 1;
      f.hits += 1;
      if (f.remaining <= 0) faults = faults.filter((x) => x !== f);
      return f.spec;
    },
    clear(): void {
      faults = [];
    },
  };
}
