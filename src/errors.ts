/**
 * The one error family adapters throw. `retry` tells the job runner whether
 * trying again can help (a timeout, a 5xx, a 429) or not (a 404, a 422, bad
 * input); `retryAfterMs` carries a server's Retry-After so the runner waits
 * exactly that long without using up an attempt.
 */
export class ConciergeError extends Error {
  readonly code: string;
  readonly retry: boolean;
  readonly retryAfterMs: number | null;
  readonly context: Record<string, unknown>;

  constructor(code: string, message: string, opts: { retry: boolean; retryAfterMs?: number | null; context?: Record<string, unknown>; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConciergeError';
    this.code = code;
    this.retry = opts.retry;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.context = opts.context ?? {};
  }
}

/** True when an unknown thrown value says a retry cannot help. Unknown errors are retried: an error is never read as "not paid". */
export function isPermanent(err: unknown): boolean {
  return err instanceof ConciergeError && !err.retry;
}
