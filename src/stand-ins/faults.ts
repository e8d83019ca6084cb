/**
 * Fault injection shared by the stand-ins: a status with the service's error
 * body, a slow answer, or a dropped connection, for requests matching a method
 * and a path. The first matching fault wins; each use counts against `times`.
 */

export interface BaseFaultSpec {
  /** `GET`, `PUT`…; any method when left out. */
  method?: string;
  /** A string matches the exact path (no query); a RegExp is tested against the path. Any path when left out. */
  path?: RegExp | string;
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** The error body; default the service's body for the status. */
  body?: unknown;
  /** How many matching requests to affect; default every one. */
  times?: number;
  /** Wait this long before answering (with the fault, or normally when there is no status). */
  delayMs?: number;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Destroy the socket without an answer. */
  drop?: boolean;
}

export interface FaultHandle {
  clear(): void;
  /** How many requests this fault has affected so far. */
  readonly hits: number;
}

interface ActiveFault<S> {
  spec: S;
  remaining: number;
  hits: number;
}

function matches(spec: BaseFaultSpec, method: string, path: string): boolean {
  if (spec.method && spec.method.toUpperCase() !== method) return false;
  if (spec.path === undefined) return true;
  if (typeof spec.path === 'string') return spec.path === path;
  spec.path.lastIndex = 0; // a /g or /y RegExp would otherwise resume where the last test stopped
  return spec.path.test(path);
}

export function createFaults<S extends BaseFaultSpec>() {
  let faults: ActiveFault<S>[] = [];
  return {
    add(spec: S): FaultHandle {
      const f: ActiveFault<S> = { spec, remaining: spec.times ?? Number.POSITIVE_INFINITY, hits: 0 };
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
    take(method: string, path: string): S | undefined {
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

/** Waits for a fault's delay; `clear` cancels every pending wait when the stand-in closes (so no timer outlives it). */
export function createDelays() {
  const timers = new Set<NodeJS.Timeout>();
  return {
    sleep: (ms: number): Promise<void> =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, ms);
        timers.add(t);
      }),
    clear(): void {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
