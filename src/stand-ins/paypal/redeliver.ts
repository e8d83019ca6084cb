/**
 * PayPal's persistence: a webhook that is not acknowledged with a 2xx (any
 * other status, a refused or reset connection, no answer in time) is sent
 * again with a growing delay until it is, or until PayPal gives up (its
 * documentation: up to 25 retries over 3 days). Each attempt is signed anew,
 * as PayPal signs at send time: same event bytes, new transmission id and time.
 * Tests pass a short policy so a crash scenario takes seconds, not days.
 */

export interface RetryPolicy {
  /** Wait before the second attempt; doubles each time up to maxDelayMs (±25% jitter). */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Attempts in all, the first included; PayPal's 1 + 25. */
  maxAttempts: number;
  /** An attempt without an answer after this long counts as failed (the socket is closed). */
  timeoutMs: number;
  /** Jitter source in [0, 1); a seeded one makes a storm replayable. */
  random: () => number;
  /** Stops retrying (e.g. the test ended); the delivery reports what it had. */
  signal?: AbortSignal;
}

/** PayPal's own schedule, roughly: retries spread over three days. */
export const PAYPAL_RETRY_POLICY: RetryPolicy = {
  firstDelayMs: 60_000,
  maxDelayMs: 6 * 3_600_000,
  maxAttempts: 26,
  timeoutMs: 30_000,
  random: Math.random,
};

export interface DeliveryAttempt {
  /** Date.now() when the attempt started. */
  at: number;
  /** The receiver's status, or null when no answer came (refused, reset, timed out). */
  status: number | null;
  /** Why there was no answer (the socket error), else null. */
  error: string | null;
}

export interface RetriedDelivery {
  /** True once an attempt got a 2xx. */
  acknowledged: boolean;
  attempts: DeliveryAttempt[];
  /** The last answer's body ('' without one). */
  body: string;
}

export type SendAttempt = (timeoutMs: number) => Promise<{ status: number; body: string }>;

const isAck = (status: number) => status >= 200 && status < 300;

export async function deliverWithRetries(send: SendAttempt, policy: RetryPolicy): Promise<RetriedDelivery> {
  const attempts: DeliveryAttempt[] = [];
  let body = '';
  let delay = policy.firstDelayMs;
  while (attempts.length < policy.maxAttempts && policy.signal?.aborted !== true) {
    const attempt: DeliveryAttempt = { at: Date.now(), status: null, error: null };
    attempts.push(attempt);
    try {
      const res = await send(policy.timeoutMs);
      attempt.status = res.status;
      body = res.body;
      if (isAck(res.status)) return { acknowledged: true, attempts, body };
    } catch (err) {
      attempt.error = err instanceof Error ? err.message : String(err);
    }
    if (attempts.length >= policy.maxAttempts) break;
    await sleep(delay * (0.75 + policy.random() * 0.5), policy.signal);
    delay = Math.min(delay * 2, policy.maxDelayMs);
  }
  return { acknowledged: false, attempts, body };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
