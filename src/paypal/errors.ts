import { ApiError, ArgumentsValidationError, ResponseValidationError } from '@paypal/paypal-server-sdk';
import axios from 'axios';
import { z } from 'zod';
import { ConciergeError } from '../errors.ts';

/** Both PayPal error shapes: REST `{name, message, debug_id, details}` and OAuth `{error, error_description}`. */
const opt = z.string().optional();
const PaypalErrorBody = z.looseObject({ name: opt, message: opt, debug_id: opt, error: opt, error_description: opt, details: z.array(z.looseObject({ issue: opt })).optional() });
const BODY_EXCERPT = 300;

/**
 * One error family out of the SDK's several (ApiError with or without a parsed
 * result, ResponseValidationError, raw axios errors). The SDK errors carry the
 * request with its Authorization header, so they are never attached as
 * `cause`: only what is safe to log is copied.
 */
export function translatePaypalError(err: unknown, method: string, path: string, secrets: readonly string[] = []): ConciergeError {
  if (err instanceof ConciergeError) return err;
  if (err instanceof ArgumentsValidationError) {
    // The SDK refused our own input before sending: a bug here, not at PayPal.
    return new ConciergeError('paypal_bad_arguments', `PayPal ${method} ${path} not sent: ${excerpt(err.message, secrets)}`, { retry: false, context: { method, path } });
  }
  if (err instanceof ResponseValidationError) {
    const where = exchangeOf(err.request, method, path);
    return new ConciergeError('paypal_invalid_response', `PayPal ${where.method} ${where.path} → ${err.statusCode}, response failed the SDK's schema: ${excerpt(err.message, secrets)}`, {
      retry: false,
      context: { ...where, status: err.statusCode },
    });
  }
  if (err instanceof ApiError) {
    const where = exchangeOf(err.request, method, path);
    const status = err.statusCode;
    const raw = typeof err.body === 'string' ? err.body : '';
    const body = parseErrorBody(raw);
    const name = body?.name ?? body?.error;
    const code = status === 404 ? 'paypal_not_found' : name ? `paypal_${name.toLowerCase()}` : `paypal_http_${status}`;
    const issue = body?.details?.[0]?.issue;
    // 429 and 5xx pass; so does a 401 on an API call, which the next attempt
    // answers with a fresh token. A 401 from the token endpoint is bad credentials.
    const retry = status === 429 || status >= 500 || status === 408 || (status === 401 && where.path !== '/v1/oauth2/token');
    const retryAfterMs = retry ? parseRetryAfter(err.headers['retry-after']) : null;
    const detail = [name, issue, body?.debug_id ? `debug_id ${body.debug_id}` : undefined].filter(Boolean).join(' ');
    return new ConciergeError(code, `PayPal ${where.method} ${where.path} → ${status}${detail ? ` ${detail}` : ''}: ${excerpt(raw, secrets)}`, {
      retry,
      retryAfterMs,
      context: { ...where, status, name: name ?? null, debugId: body?.debug_id ?? null, issue: issue ?? null },
    });
  }
  if (axios.isAxiosError(err)) {
    const timedOut = err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT';
    const where = { method: (err.config?.method ?? method).toUpperCase(), path: pathOf(err.config?.url) ?? path };
    return new ConciergeError(timedOut ? 'paypal_timeout' : 'paypal_network', `PayPal ${where.method} ${where.path} failed: ${err.code ?? 'network error'} ${excerpt(err.message, secrets)}`, {
      retry: true,
      context: { ...where, errorCode: err.code ?? null },
    });
  }
  // Anything else (an abort, the SDK refusing to send without a token) is
  // retried: an unknown failure must never read as a definite answer.
  const message = err instanceof Error ? err.message : String(err);
  return new ConciergeError('paypal_error', `PayPal ${method} ${path} failed: ${excerpt(message, secrets)}`, { retry: true, context: { method, path } });
}

function exchangeOf(request: { method?: string; url?: string } | undefined, method: string, path: string): { method: string; path: string } {
  return { method: request?.method ?? method, path: pathOf(request?.url) ?? path };
}

function pathOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return undefined; // not a URL: the caller's own label is used instead
  }
}

function parseErrorBody(raw: string): z.infer<typeof PaypalErrorBody> | undefined {
  try {
    const parsed = PaypalErrorBody.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // an HTML page from a proxy, or nothing: the excerpt still shows it
  }
}

/** Seconds or an HTTP date, as RFC 9110 allows. */
function parseRetryAfter(value: string | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** A bounded, single-line piece of a body or message, with tokens and known secrets blanked. */
function excerpt(text: string, secrets: readonly string[]): string {
  let s = text.replace(/\s+/g, ' ').replace(/("access_token"\s*:\s*")[^"]*/g, '$1[redacted]').replace(/Bearer\s+[\w.~+/-]+=*/g, 'Bearer [redacted]');
  for (const secret of secrets) if (secret) s = s.split(secret).join('[redacted]');
  return s.length > BODY_EXCERPT ? `${s.slice(0, BODY_EXCERPT)}…` : s;
}
