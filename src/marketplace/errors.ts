import { ConciergeError } from '../errors.ts';

/**
 * The marketplace's answers in Concierge's one error family. What trying
 * again can help with (a 5xx, a 408, a 429, no answer at all) is retried with
 * backoff by the job runner; a 429's Retry-After is waited out without using
 * an attempt; any other 4xx is the marketplace refusing this request, which
 * the same request again cannot change: the job is dead-lettered, and its
 * audit entry carries this message (the exchange, status and body excerpt).
 */

const BODY_EXCERPT = 300;
/** A Retry-After beyond this is read as this: a typo in a header must not park a member's sync for days. */
const MAX_RETRY_AFTER_MS = 60 * 60_000;

export interface Exchange {
  method: string;
  /** Path on the marketplace, e.g. /v1/members/123. */
  path: string;
}

/** A non-2xx answer other than 409 (which the client reads as "a newer version is held") as an error. */
export function translateMarketplaceAnswer(
  x: Exchange,
  answer: { status: number; retryAfter: string | null; body: string },
  secrets: readonly string[],
  now: number,
): ConciergeError {
  const { status } = answer;
  const context = { ...x, status };
  const message = `Marketplace ${x.method} ${x.path} → ${status}: ${excerpt(answer.body, secrets) || '(empty body)'}`;
  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(answer.retryAfter, now);
    return new ConciergeError('marketplace_rate_limited', message, { retry: true, retryAfterMs, context });
  }
  if (status >= 500 || status === 408) return new ConciergeError('marketplace_unavailable', message, { retry: true, context });
  if (status >= 300 && status < 400) {
    // Not followed: a redirect would send the signed body to an address nobody configured.
    return new ConciergeError('marketplace_redirected', `${message} (redirects are not followed: set MARKETPLACE_API_URL to the final address)`, { retry: false, context });
  }
  return new ConciergeError('marketplace_rejected', message, { retry: false, context });
}

/** No answer: refused, reset, DNS, TLS or our timeout. Always retried. */
export function translateMarketplaceFailure(x: Exchange, err: unknown, timedOut: boolean, secrets: readonly string[]): ConciergeError {
  if (err instanceof ConciergeError) return err;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const text = err instanceof Error ? `${err.name}: ${err.message}${cause}` : String(err);
  const code = timedOut ? 'marketplace_timeout' : 'marketplace_unreachable';
  return new ConciergeError(code, `Marketplace ${x.method} ${x.path} failed: ${excerpt(text, secrets)}`, { retry: true, context: { ...x } });
}

/** Seconds or an HTTP date (RFC 9110); null when absent or unreadable (the runner then backs off as for a 5xx). */
function parseRetryAfterMs(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (Number.isNaN(ms)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/** One bounded line of a body or message, with the key blanked should the marketplace echo it. */
function excerpt(text: string, secrets: readonly string[]): string {
  let s = text.replace(/\s+/g, ' ').trim();
  for (const secret of secrets) if (secret) s = s.split(secret).join('[redacted]');
  return s.length > BODY_EXCERPT ? `${s.slice(0, BODY_EXCERPT)}…` : s;
}
