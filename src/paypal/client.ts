import { ApiError, ApplicationContextUserAction, ArgumentsValidationError, Client, Environment, ExperienceContextShippingPreference } from '@paypal/paypal-server-sdk';
import { ResponseValidationError, SubscriptionsController } from '@paypal/paypal-server-sdk';
import type { ClientCredentialsAuthManager, OAuthToken, Subscription, SubscriptionTransactionDetails } from '@paypal/paypal-server-sdk';
import { Agent } from 'node:https';
import axios, { type InternalAxiosRequestConfig } from 'axios';
import { z } from 'zod';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * Our one door to PayPal's REST API: the official SDK with a deadline on every
 * call, retries only where they are safe, and every failure turned into a
 * ConciergeError whose `retry` bit the job runner acts on.
 */

export interface PaypalClientOptions {
  clientId: string;
  clientSecret: string;
  /** `https://api-m.sandbox.paypal.com`, `https://api-m.paypal.com`, or a stand-in. */
  apiUrl: string;
  mode: 'sandbox' | 'live';
  /** Per HTTP attempt. The SDK's default is no timeout at all. */
  timeoutMs: number;
  log?: Logger;
  /** Extra attempts the SDK makes for a GET answered 502/503/504 (see below); default 2. */
  maxRetries?: number;
  /** First wait between those attempts, doubling each time; default 1000. */
  retryIntervalMs?: number;
}

export interface CreateSubscriptionInput {
  planId: string;
  /** The member's Discord user id: how a webhook for an unknown subscription finds its member. */
  customId: string;
  returnUrl: string;
  cancelUrl: string;
  /** `PayPal-Request-Id`: PayPal answers a repeat within 72 h with the first subscription instead of a second one. */
  requestId: string;
  brandName?: string;
}

export interface CreatedSubscription {
  id: string;
  status: string;
  /** Where the buyer approves; nothing is charged before that. */
  approveUrl: string;
}

export interface RevisedSubscription {
  /** Null when PayPal applied the change without asking the buyer. */
  approveUrl: string | null;
  planId: string;
}

export interface PaypalClient {
  getSubscription(id: string): Promise<Subscription>;
  createSubscription(input: CreateSubscriptionInput): Promise<CreatedSubscription>;
  cancelSubscription(id: string, reason: string): Promise<void>;
  suspendSubscription(id: string, reason: string): Promise<void>;
  activateSubscription(id: string, reason: string): Promise<void>;
  reviseSubscription(id: string, planId: string, urls: { returnUrl: string; cancelUrl: string }): Promise<RevisedSubscription>;
  listTransactions(id: string, start: Date, end: Date): Promise<SubscriptionTransactionDetails[]>;
  /** Closes the kept-alive connections to PayPal. */
  close(): void;
}

/** The hosts the SDK hard-codes; it has no setting for another base URL. */
const SDK_HOSTS: ReadonlySet<string> = new Set(['api-m.sandbox.paypal.com', 'api-m.paypal.com']);
/** Both PayPal error shapes: REST `{name, message, debug_id, details}` and OAuth `{error, error_description}`. */
const opt = z.string().optional();
const PaypalErrorBody = z.looseObject({ name: opt, message: opt, debug_id: opt, error: opt, error_description: opt, details: z.array(z.looseObject({ issue: opt })).optional() });
const BODY_EXCERPT = 300;

export function createPaypalClient(o: PaypalClientOptions): PaypalClient {
  const base = o.apiUrl.replace(/\/+$/, '');
  const retryInterval = (o.retryIntervalMs ?? 1000) / 1000;
  const maxRetries = o.maxRetries ?? 2;
  const httpAdapter = axios.getAdapter('http');
  // The SDK's axios opens a new TLS connection per call; a handshake costs more
  // CPU than the whole job that makes the call (measured: ~5 ms of the event
  // loop per PayPal read against the stand-in), and a round trip to PayPal more.
  const httpsAgent = new Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: 60_000 });
  // Set when fetching a token failed: the SDK then keeps the rejected token
  // promise and fails every later call with the same error (measured with
  // 2.5.0), so the next call must start from a fresh SDK client.
  let tokenBroken = false;
  // The SDK starts a token request per concurrent call while it has none (3 parallel first calls = 3 requests, measured).
  let tokenInFlight: Promise<OAuthToken> | null = null;
  let subscriptions = buildController();

  function fetchToken(last: OAuthToken | undefined, manager: ClientCredentialsAuthManager): Promise<OAuthToken> {
    tokenInFlight ??= manager
      .updateToken(last)
      .catch((err: unknown) => {
        tokenBroken = true;
        throw err;
      })
      .finally(() => {
        tokenInFlight = null;
      });
    return tokenInFlight;
  }

  function rewrite(url: string | undefined): string | undefined {
    if (!url) return url;
    const u = new URL(url);
    return SDK_HOSTS.has(u.hostname) ? `${base}${u.pathname}${u.search}` : url;
  }

  function buildController(): SubscriptionsController {
    const client = new Client({
      environment: o.mode === 'live' ? Environment.Production : Environment.Sandbox,
      timeout: o.timeoutMs,
      clientCredentialsAuthCredentials: {
        oAuthClientId: o.clientId,
        oAuthClientSecret: o.clientSecret,
        oAuthTokenProvider: fetchToken,
      },
      httpClientOptions: {
        retryConfig: {
          maxNumberOfRetries: maxRetries,
          retryInterval,
          backoffFactor: 2,
          // Total sleep allowed across retries (seconds). A Retry-After longer
          // than this is left to the job runner instead of holding the call.
          maximumRetryWaitTime: retryInterval * (2 ** maxRetries - 1) + 0.5,
          // The SDK treats any error thrown below its retry loop as a
          // "timeout", and its error mapping throws for 400/401/403/404/422/500
          // there: with retryOnTimeout a GET 404 would be retried. Off, a
          // timeout or a 500 reaches the job runner at once, while 502/503/504
          // (and a short Retry-After) are retried here.
          retryOnTimeout: false,
          httpStatusCodesToRetry: [502, 503, 504],
          // POSTs are not idempotent (cancel, revise) except create, which carries PayPal-Request-Id.
          httpMethodsToRetry: ['GET'],
        },
      },
      unstable_httpClientOptions: {
        adapter: (c: InternalAxiosRequestConfig) => httpAdapter({ ...c, url: rewrite(c.url), httpsAgent }),
      },
    });
    return new SubscriptionsController(client);
  }

  async function call<T>(op: string, method: string, path: string, run: (api: SubscriptionsController) => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await run(subscriptions);
      o.log?.debug({ op, ms: Date.now() - started }, 'paypal call ok');
      return result;
    } catch (err) {
      const e = toConciergeError(err, method, path, [o.clientSecret]);
      // A 401 on an API call means PayPal no longer accepts our cached token
      // (revoked, or the app's secret rotated): start over with a new one.
      if (tokenBroken || (e.context.status === 401 && e.context.path !== '/v1/oauth2/token')) {
        tokenBroken = false;
        subscriptions = buildController();
      }
      o.log?.warn({ op, code: e.code, retry: e.retry, status: e.context.status, debugId: e.context.debugId, ms: Date.now() - started }, 'paypal call failed');
      throw e;
    }
  }

  const subPath = (id: string, tail = ''): string => `/v1/billing/subscriptions/${encodeURIComponent(id)}${tail}`;

  return {
    getSubscription: (id) =>
      call('getSubscription', 'GET', subPath(id), async (api) => (await api.getSubscription({ id, fields: 'last_failed_payment,plan' })).result),

    createSubscription: (i) =>
      call('createSubscription', 'POST', '/v1/billing/subscriptions', async (api) => {
        const { result } = await api.createSubscription({
          paypalRequestId: i.requestId,
          body: {
            planId: i.planId,
            customId: i.customId,
            applicationContext: {
              returnUrl: i.returnUrl,
              cancelUrl: i.cancelUrl,
              userAction: ApplicationContextUserAction.SubscribeNow,
              shippingPreference: ExperienceContextShippingPreference.NoShipping,
              ...(i.brandName ? { brandName: i.brandName } : {}),
            },
          },
        });
        const approveUrl = approveLinkOf(result.links);
        if (result.id && approveUrl) return { id: result.id, status: result.status ?? 'APPROVAL_PENDING', approveUrl };
        const context = { method: 'POST', path: '/v1/billing/subscriptions' };
        throw new ConciergeError('paypal_invalid_response', 'PayPal POST /v1/billing/subscriptions → 2xx without an id or approve link', { retry: false, context });
      }),

    cancelSubscription: (id, reason) => call('cancelSubscription', 'POST', subPath(id, '/cancel'), async (api) => void (await api.cancelSubscription({ id, body: { reason } }))),
    suspendSubscription: (id, reason) => call('suspendSubscription', 'POST', subPath(id, '/suspend'), async (api) => void (await api.suspendSubscription({ id, body: { reason } }))),
    activateSubscription: (id, reason) => call('activateSubscription', 'POST', subPath(id, '/activate'), async (api) => void (await api.activateSubscription({ id, body: { reason } }))),

    reviseSubscription: (id, planId, urls) =>
      call('reviseSubscription', 'POST', subPath(id, '/revise'), async (api) => {
        const { result } = await api.reviseSubscription({
          id,
          body: { planId, applicationContext: { returnUrl: urls.returnUrl, cancelUrl: urls.cancelUrl } },
        });
        return { approveUrl: approveLinkOf(result.links) ?? null, planId: result.planId ?? planId };
      }),

    listTransactions: (id, start, end) =>
      call('listTransactions', 'GET', subPath(id, '/transactions'), async (api) => {
        const { result } = await api.listSubscriptionTransactions({ id, startTime: start.toISOString(), endTime: end.toISOString() });
        return result.transactions ?? [];
      }),

    close: () => httpsAgent.destroy(),
  };
}

function approveLinkOf(links: readonly { rel: string; href: string }[] | undefined): string | undefined {
  return links?.find((l) => l.rel === 'approve')?.href;
}

/**
 * One error family out of the SDK's several (ApiError with or without a parsed
 * result, ResponseValidationError, raw axios errors). The SDK errors carry the
 * request with its Authorization header, so they are never attached as
 * `cause`: only what is safe to log is copied.
 */
export function toConciergeError(err: unknown, method: string, path: string, secrets: readonly string[] = []): ConciergeError {
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
