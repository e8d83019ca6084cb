import { bucketHash } from './ids.ts';

/**
 * Discord's REST rate limits: fixed-window buckets announced on every
 * response (X-RateLimit-*), a 429 with Retry-After when a bucket is
 * exceeded, and a global limit per bot token (50 requests a second;
 * interaction endpoints are exempt). A window starts at the first request
 * after the previous one ended, as Discord's do.
 *
 * discord.js reads `X-RateLimit-Reset-After` (+50 ms) and waits before the
 * next request when `Remaining` is 0, so against these headers it never
 * gets a 429 from one queue; two of its queues sharing one bucket can.
 */

export interface BucketSpec {
  /** Which counter: e.g. `member-roles:<guild>`. */
  key: string;
  /** Requests per window. */
  limit: number;
  windowMs: number;
}

export interface Verdict {
  headers: Record<string, string>;
  /** Set when the request is refused with 429. */
  refused: { body: { message: string; retry_after: number; global: boolean }; status: 429 } | null;
}

interface Window {
  count: number;
  resetAt: number;
}

const seconds = (ms: number): string => (Math.ceil(ms) / 1000).toFixed(3);

export function createRateLimits(o: { globalLimit: number; now?: () => number }) {
  const now = o.now ?? Date.now;
  const buckets = new Map<string, Window>();
  let global: Window = { count: 0, resetAt: 0 };
  const hits = { bucket: 0, global: 0 };

  function windowFor(key: string, windowMs: number, t: number): Window {
    let w = buckets.get(key);
    if (!w || t >= w.resetAt) {
      w = { count: 0, resetAt: t + windowMs };
      buckets.set(key, w);
    }
    return w;
  }

  function headersFor(spec: BucketSpec, w: Window, t: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(spec.limit),
      'x-ratelimit-remaining': String(Math.max(0, spec.limit - w.count)),
      'x-ratelimit-reset': (w.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': seconds(w.resetAt - t),
      'x-ratelimit-bucket': bucketHash(spec.key.replace(/:\d+$/, '')),
    };
  }

  return {
    /** Counts a request against the global limit; a 429 verdict when over it. */
    global(): Verdict | null {
      const t = now();
      if (t >= global.resetAt) global = { count: 0, resetAt: t + 1000 };
      global.count += 1;
      if (global.count <= o.globalLimit) return null;
      hits.global += 1;
      const wait = global.resetAt - t;
      return {
        headers: { 'retry-after': String(Math.ceil(wait / 1000)), 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' },
        refused: { status: 429, body: { message: 'You are being rate limited.', retry_after: Number(seconds(wait)), global: true } },
      };
    },

    /** Counts a request against its bucket: the headers to send, and a 429 when over. */
    take(spec: BucketSpec): Verdict {
      const t = now();
      const w = windowFor(spec.key, spec.windowMs, t);
      if (w.count >= spec.limit) {
        hits.bucket += 1;
        const wait = w.resetAt - t;
        return {
          headers: { ...headersFor(spec, w, t), 'retry-after': String(Math.ceil(wait / 1000)), 'x-ratelimit-scope': 'user' },
          refused: { status: 429, body: { message: 'You are being rate limited.', retry_after: Number(seconds(wait)), global: false } },
        };
      }
      w.count += 1;
      return { headers: headersFor(spec, w, t), refused: null };
    },

    /** Headers for an injected 429: the bucket looks exhausted for `retryAfter` seconds. */
    injected(spec: BucketSpec, retryAfter: number, scope: string): Record<string, string> {
      const t = now();
      return {
        'x-ratelimit-limit': String(spec.limit),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': ((t + retryAfter * 1000) / 1000).toFixed(3),
        'x-ratelimit-reset-after': retryAfter.toFixed(3),
        'x-ratelimit-bucket': bucketHash(spec.key.replace(/:\d+$/, '')),
        'retry-after': String(Math.ceil(retryAfter)),
        'x-ratelimit-scope': scope,
      };
    },

    /** 429s the limits themselves sent (injected ones are not counted here). */
    hits: (): { bucket: number; global: number } => ({ ...hits }),
    reset(): void {
      buckets.clear();
      global = { count: 0, resetAt: 0 };
      hits.bucket = 0;
      hits.global = 0;
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
