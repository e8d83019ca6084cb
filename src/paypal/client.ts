import { ApplicationContextUserAction, Client, Environment, ExperienceContextShippingPreference, SetupFeeFailureAction } from '@paypal/paypal-server-sdk';
import { SubscriptionsController } from '@paypal/paypal-server-sdk';
import type { ClientCredentialsAuthManager, OAuthToken, PlanOverride, Subscription, SubscriptionTransactionDetails } from '@paypal/paypal-server-sdk';
import { Agent } from 'node:https';
import axios, { type InternalAxiosRequestConfig } from 'axios';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HttpCallObserver } from '../metrics/http-call.ts';
import { timedAdapter } from './call-timing.ts';
import { parseDispute, type PaypalDispute } from './dispute.ts';
import { translatePaypalError } from './errors.ts';
import { parsePlanPrice, type PlanPrice } from './plan-price.ts';
import { parseSale, type PaypalSale } from './sale.ts';
import { parseWebhookEventPage, WEBHOOK_EVENTS_PATH, type WebhookEventPage } from './webhook-events.ts';
import { parseWebhookList, type PaypalWebhook } from './webhooks.ts';

export type { PaypalDispute, PaypalSale, PaypalWebhook, PlanPrice, WebhookEventPage };

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
  /** Monitoring: each HTTP request to PayPal. */
  onCall?: HttpCallObserver;
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
  /** Regular billing starts then (PayPal's `start_time`); absent = on approval. */
  startTime?: Date;
  /** Charged at once on approval (a plan override); if it fails, PayPal cancels the subscription. */
  setupFee?: { value: string; currency: string };
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
  reviseSubscription(id: string, planId: string, urls: { returnUrl: string; cancelUrl: string }): Promise<RevisedSubscription>;
  listTransactions(id: string, start: Date, end: Date): Promise<SubscriptionTransactionDetails[]>;
  getPlan(planId: string): Promise<PlanPrice>;
  getDispute(id: string): Promise<PaypalDispute>;
  /** A sale (v1), to learn the subscription of a sale a dispute or refund names. */
  getSale(id: string): Promise<PaypalSale>;
  /** One page of the webhook events PayPal sent (or tried to): the first of a window, or the one a `next` link names. */
  listWebhookEvents(page: { start: Date; end: Date; pageSize: number } | { next: string }): Promise<WebhookEventPage>;
  /** The webhooks registered in this PayPal app (`concierge doctor`); also proves the credentials work. */
  listWebhooks(): Promise<PaypalWebhook[]>;
  /** Closes the kept-alive connections to PayPal. */
  close(): void;
}

/** How long a plan's price is reused before PayPal is asked again. */
const PLAN_TTL_MS = 10 * 60 * 1000;
/** The hosts the SDK hard-codes; it has no setting for another base URL. */
const SDK_HOSTS: ReadonlySet<string> = new Set(['api-m.sandbox.paypal.com', 'api-m.paypal.com']);

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
  let { subscriptions, client: sdkClient } = buildController();
  const plans = new Map<string, { price: Promise<PlanPrice>; until: number }>();

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

  /** The SDK client is kept too: disputes, sales and the event list have no controller and go through its request builder (getText). */
  function buildController(): { subscriptions: SubscriptionsController; client: Client } {
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
        adapter: timedAdapter(o.onCall, (c: InternalAxiosRequestConfig) => httpAdapter({ ...c, url: rewrite(c.url), httpsAgent })),
      },
    });
    return { subscriptions: new SubscriptionsController(client), client };
  }

  async function call<T>(op: string, method: string, path: string, run: (api: SubscriptionsController, client: Client) => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await run(subscriptions, sdkClient);
      o.log?.debug({ op, ms: Date.now() - started }, 'paypal call ok');
      return result;
    } catch (err) {
      const e = translatePaypalError(err, method, path, [o.clientSecret]);
      // A 401 on an API call means PayPal no longer accepts our cached token
      // (revoked, or the app's secret rotated): start over with a new one.
      if (tokenBroken || (e.context.status === 401 && e.context.path !== '/v1/oauth2/token')) {
        tokenBroken = false;
        ({ subscriptions, client: sdkClient } = buildController());
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
            ...(i.startTime ? { startTime: i.startTime.toISOString() } : {}),
            ...(i.setupFee ? { plan: setupFeeOverride(i.setupFee) } : {}),
          },
        });
        const approveUrl = approveLinkOf(result.links);
        if (result.id && approveUrl) return { id: result.id, status: result.status ?? 'APPROVAL_PENDING', approveUrl };
        const context = { method: 'POST', path: '/v1/billing/subscriptions' };
        throw new ConciergeError('paypal_invalid_response', 'PayPal POST /v1/billing/subscriptions → 2xx without an id or approve link', { retry: false, context });
      }),

    cancelSubscription: (id, reason) => call('cancelSubscription', 'POST', subPath(id, '/cancel'), async (api) => void (await api.cancelSubscription({ id, body: { reason } }))),

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

    getPlan: (planId) => {
      // Every fetch-on-notify needs its plan's price; plans change rarely, so a price change reaches Concierge within PLAN_TTL_MS.
      const hit = plans.get(planId);
      if (hit !== undefined && hit.until > Date.now()) return hit.price;
      const price = call('getPlan', 'GET', `/v1/billing/plans/${encodeURIComponent(planId)}`, async (api) => parsePlanPrice(planId, (await api.getBillingPlan(planId)).result));
      plans.set(planId, { price, until: Date.now() + PLAN_TTL_MS });
      // A failure is not remembered: the next call asks again (unless a newer read has replaced this one meanwhile).
      price.catch(() => {
        if (plans.get(planId)?.price === price) plans.delete(planId);
      });
      return price;
    },

    getDispute: (id) => {
      const path = `/v1/customer/disputes/${encodeURIComponent(id)}`;
      return call('getDispute', 'GET', path, async (_api, client) => parseDispute(await getText(client, path), path));
    },

    getSale: (id) => {
      const path = `/v1/payments/sale/${encodeURIComponent(id)}`;
      return call('getSale', 'GET', path, async (_api, client) => parseSale(await getText(client, path), path));
    },

    listWebhookEvents: (page) => {
      const query: Record<string, string> =
        'next' in page
          ? Object.fromEntries(new URL(page.next, base).searchParams)
          : { page_size: String(page.pageSize), start_time: page.start.toISOString(), end_time: page.end.toISOString() };
      const label = `${WEBHOOK_EVENTS_PATH}?${new URLSearchParams(query).toString()}`;
      return call('listWebhookEvents', 'GET', label, async (_api, client) => parseWebhookEventPage(await getText(client, WEBHOOK_EVENTS_PATH, query), label));
    },

    listWebhooks: () => {
      const path = '/v1/notifications/webhooks';
      return call('listWebhooks', 'GET', path, async (_api, client) => parseWebhookList(await getText(client, path), path));
    },

    close: () => httpsAgent.destroy(),
  };
}

/**
 * A GET the SDK has no controller for (disputes, sales, the event list, webhooks), through the SDK's own
 * request builder: same base URL (rewritten to apiUrl), token, timeout and retries as the controllers.
 */
async function getText(client: Client, path: string, query?: Record<string, string>): Promise<string> {
  const req = client.getRequestBuilderFactory()('GET', path);
  if (query !== undefined) req.query(query);
  req.authenticate([{ oauth2: true }]);
  return (await req.callAsText()).result;
}

/** CANCEL: a subscription whose fee is declined never activates, so nothing is owed unpaid. */
function setupFeeOverride(fee: { value: string; currency: string }): PlanOverride {
  return { paymentPreferences: { setupFee: { currencyCode: fee.currency, value: fee.value }, setupFeeFailureAction: SetupFeeFailureAction.Cancel } };
}

function approveLinkOf(links: readonly { rel: string; href: string }[] | undefined): string | undefined {
  return links?.find((l) => l.rel === 'approve')?.href;
}
