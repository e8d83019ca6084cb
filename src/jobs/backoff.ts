/**
 * Retry delays for failed jobs: exponential from 1 s, capped at 15 min, with
 * "equal jitter" (half the window fixed, half random). Equal rather than full
 * jitter so a retry never comes back almost at once (full jitter can draw ~0 ms,
 * which hammers an API that just failed) while retries of jobs that failed
 * together still spread over half the window.
 *
 * Pure: the random draw is an argument, so tests and callers decide it.
 */

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 15 * 60_000;

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

const DEFAULT_POLICY: BackoffPolicy = { baseMs: BACKOFF_BASE_MS, capMs: BACKOFF_CAP_MS };

/**
 * The window for the retry after attempt number `attempt` (1 = the first run
 * failed): base * 2^(attempt-1), capped. Non-decreasing in `attempt`.
 */
export function computeBackoffCeilingMs(attempt: number, policy: BackoffPolicy = DEFAULT_POLICY): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // 2 ** 1100 is Infinity, which Math.min caps like any other large value.
  return Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1));
}

/**
 * Delay before the next try after attempt `attempt` failed, given `random` in
 * [0, 1). Result lies in [ceiling / 2, ceiling], rounded to whole ms.
 */
export function computeBackoffMs(attempt: number, random: number, policy: BackoffPolicy = DEFAULT_POLICY): number {
  const ceiling = computeBackoffCeilingMs(attempt, policy);
  const r = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 0;
  const half = ceiling / 2;
  return Math.round(half + r * half);
}
