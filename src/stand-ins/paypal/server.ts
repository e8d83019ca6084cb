import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { SERVER_CERT_PEM, SERVER_KEY_PEM } from './sign-webhook.ts';
import { accessToken, debugId } from './ids.ts';
import { createState, type ApproveOptions, type PlanSpec, type ShortcutSubscription, type StoredSale, type StoredSubscription, type SubscriptionStatus } from './state.ts';
import { createDisputes, type DisputeStage, type OpenDisputeOptions, type StoredDispute } from './disputes.ts';
import { createRefunds } from './refunds.ts';
import { createRoutes, type ParsedRequest, type Reply } from './routes.ts';
import { createEvents, type WebhookEvent } from './events.ts';
import { createDelays } from '../faults.ts';
import { createEventLog } from './event-log.ts';
import { createFaults, type FaultHandle, type FaultSpec } from './faults.ts';
import { buildSignedRequest, postRaw, type DeliverOptions, type SignedRequest, type SignedRequestOptions } from './deliver.ts';
import { faultBodyFor } from './shapes.ts';
import { deliverWithRetries, PAYPAL_RETRY_POLICY, type RetriedDelivery, type RetryPolicy } from './redeliver.ts';
import { createWebhookRegistry, type WebhookSpec } from './webhooks.ts';

/**
 * A PayPal REST stand-in on loopback HTTPS: OAuth, the Subscriptions API,
 * webhook certificates, webhook delivery, request log and fault injection.
 * The real SDK talks to it unchanged (see src/stand-ins/paypal/README.md).
 */

export type { ApproveOptions, PlanSpec, StoredDispute, OpenDisputeOptions, StoredSale, StoredSubscription, SubscriptionStatus, ShortcutSubscription, FaultSpec, FaultHandle, WebhookEvent };
export type { DeliverOptions, SignedRequest, SignedRequestOptions, WebhookSpec, RetriedDelivery, RetryPolicy };
export type { DeliveryAttempt } from './redeliver.ts';
export type { SubscriptionEventType, SaleEventType, DisputeEventType, DisputeStage, DisputeOptions, EventOptions } from './events.ts';
export type { SaleStatus } from './model.ts';

export interface PaypalStandInOptions {
  clientId?: string;
  clientSecret?: string;
  /** The plans PayPal knows; default: any `P-…` id is a 9.99 USD monthly plan. */
  plans?: readonly PlanSpec[];
  /** The stand-in's clock, for times in subscriptions, sales and events. */
  now?: () => Date;
  /** Webhooks registered in the app (GET /v1/notifications/webhooks); default none. */
  webhooks?: readonly WebhookSpec[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, the raw string for other bodies, undefined when empty. */
  body: unknown;
  at: Date;
}

export type PaypalStandIn = Awaited<ReturnType<typeof createPaypalStandIn>>;

/** PayPal's tokens live 9 hours. */
const TOKEN_TTL_SECONDS = 32_400;

export async function createPaypalStandIn(opts: PaypalStandInOptions = {}) {
  const clientId = opts.clientId ?? 'test-client-id';
  const clientSecret = opts.clientSecret ?? 'test-client-secret';
  const now = opts.now ?? (() => new Date());
  const tokens = new Set<string>();
  const requests: RecordedRequest[] = [];
  const delays = createDelays();
  const faults = createFaults();
  const state = createState({ ...(opts.plans ? { plans: opts.plans } : {}), now });
  const disputes = createDisputes({ findSale: state.findSale, now });
  const refunds = createRefunds(state.findSale);
  const webhooks = createWebhookRegistry(opts.webhooks);

  const server: Server = createServer({ cert: SERVER_CERT_PEM, key: SERVER_KEY_PEM });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const routes = createRoutes({ base: url, state, disputes, webhooks, now });
  const events = createEvents({ base: url, state, disputes, now });
  const sent = createEventLog({ base: url });

  function issueToken(req: ParsedRequest): Reply {
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      return { status: 401, json: { error: 'invalid_client', error_description: 'Client Authentication failed' } };
    }
    const grant = new URLSearchParams(typeof req.body === 'string' ? req.body : '').get('grant_type');
    if (grant !== 'client_credentials') return { status: 400, json: { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' } };
    const token = accessToken();
    tokens.add(token);
    return {
      status: 200,
      json: {
        scope: 'https://uri.paypal.com/services/subscriptions https://uri.paypal.com/services/applications/webhooks openid',
        access_token: token,
        token_type: 'Bearer',
        app_id: 'APP-80W284485P519543T',
        expires_in: TOKEN_TTL_SECONDS,
        nonce: `${now().toISOString()}${debugId()}`,
      },
    };
  }

  /** PayPal's two 401 bodies: no credentials at all, or a token it does not know. */
  function checkBearer(headers: IncomingHttpHeaders): Reply | undefined {
    const auth = headers.authorization;
    if (!auth?.startsWith('Bearer ')) {
      return {
        status: 401,
        json: {
          name: 'AUTHENTICATION_FAILURE',
          message: 'Authentication failed due to invalid authentication credentials or a missing Authorization header.',
          debug_id: debugId(),
        },
      };
    }
    if (!tokens.has(auth.slice('Bearer '.length))) return { status: 401, json: { error: 'invalid_token', error_description: 'Token signature verification failed' } };
    return undefined;
  }

  function route(req: ParsedRequest): Reply {
    if (req.method === 'POST' && req.path === '/v1/oauth2/token') return issueToken(req);
    const open = routes.handlePublic(req);
    if (open) return open;
    return checkBearer(req.headers) ?? sent.handle(req) ?? routes.handle(req);
  }

  function send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed) return; // the client gave up (e.g. its timeout fired during a delay)
    const headers: Record<string, string> = { 'paypal-debug-id': debugId(), ...reply.headers };
    if (reply.json !== undefined) {
      res.writeHead(reply.status, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.json));
    } else if (reply.text) {
      res.writeHead(reply.status, { ...headers, 'content-type': reply.text.contentType });
      res.end(reply.text.body);
    } else {
      res.writeHead(reply.status, headers);
      res.end();
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const target = new URL(req.url ?? '/', url);
    const method = req.method ?? 'GET';
    let body: unknown = raw === '' ? undefined : raw;
    if (raw !== '' && (req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        // Logged as the raw string; PayPal answers malformed JSON with a 400.
        requests.push({ method, path: target.pathname, query: Object.fromEntries(target.searchParams), headers: req.headers, body: raw, at: now() });
        return send(res, { status: 400, json: { name: 'INVALID_REQUEST', message: 'MALFORMED_REQUEST_JSON', debug_id: debugId() } });
      }
    }
    requests.push({ method, path: target.pathname, query: Object.fromEntries(target.searchParams), headers: req.headers, body, at: now() });

    const fault = faults.take(method, target.pathname);
    if (fault?.delayMs) await delays.sleep(fault.delayMs);
    if (fault?.drop) {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      return send(res, { status: fault.status, json: fault.body ?? faultBodyFor(fault.status), headers });
    }
    send(res, route({ method, path: target.pathname, query: target.searchParams, body, headers: req.headers }));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    onRequest(req, res).catch((err: unknown) => {
      // A bug in the stand-in must fail the test loudly, not hang it.
      send(res, { status: 500, json: { name: 'STAND_IN_BUG', message: String(err), debug_id: debugId() } });
    });
  });

  return {
    url,
    clientId,
    clientSecret,
    /** Every request received, oldest first (faulted ones included). */
    requests: requests as readonly RecordedRequest[],
    callsTo: (method: string, path: RegExp): number => requests.filter((r) => r.method === method && path.test(r.path)).length,

    createSubscription: (s: ShortcutSubscription): StoredSubscription => state.createShortcut(s),
    /** The buyer approved; null only when `setupFeeFails` (no sale). */
    approve: state.approve,
    setStatus: (id: string, status: SubscriptionStatus): StoredSubscription => state.setStatus(id, status),
    failPayment: (id: string): StoredSubscription => state.failPayment(id),
    recordPayment: (id: string, at?: Date): StoredSale => state.recordPayment(id, at),
    approveRevision: (id: string): StoredSubscription => state.approveRevision(id),
    refundSale: refunds.refundSale,
    reverseSale: refunds.reverseSale,
    openDispute: (saleId: string, o: OpenDisputeOptions): StoredDispute => disputes.openDispute(saleId, o),
    setDisputeStage: (id: string, stage: DisputeStage): StoredDispute => disputes.setDisputeStage(id, stage),
    setDisputeStatus: (id: string, status: string): StoredDispute => disputes.setDisputeStatus(id, status),
    dispute: (id: string): StoredDispute | undefined => disputes.getDispute(id),
    get: (id: string): StoredSubscription | undefined => state.get(id),
    /** Every stored subscription, oldest first. */
    subscriptions: (): StoredSubscription[] => state.all(),

    event: events.event,
    subscriptionEvent: events.subscriptionEvent,
    saleEvent: events.saleEvent,
    disputeEvent: events.disputeEvent,
    signedRequest: (event: WebhookEvent<unknown>, o: SignedRequestOptions): SignedRequest => {
      sent.remember(event);
      return buildSignedRequest(url, event, o);
    },
    deliver: (event: WebhookEvent<unknown>, o: DeliverOptions): Promise<{ status: number; body: string }> => {
      sent.remember(event);
      return postRaw(o.url, buildSignedRequest(url, event, o));
    },
    /**
     * Delivers as PayPal does: again and again (re-signed each time) until a 2xx, with growing delays;
     * `retry` shortens PayPal's three-day schedule for a test (redeliver.ts).
     */
    deliverUntilAcknowledged: (event: WebhookEvent<unknown>, o: DeliverOptions & { retry?: Partial<RetryPolicy> }): Promise<RetriedDelivery> => {
      sent.remember(event);
      const { retry, ...signing } = o;
      return deliverWithRetries((timeoutMs) => postRaw(o.url, buildSignedRequest(url, event, signing), timeoutMs), { ...PAYPAL_RETRY_POLICY, ...retry });
    },
    /** PayPal sent the event and it never arrived (an outage, a wrong webhook URL): listed by the events API, never delivered. */
    loseEvent: (event: WebhookEvent<unknown>): void => sent.remember(event),
    /** Every event sent (delivered, signed for delivery or lost), as the events API lists them. */
    sentEvents: (): WebhookEvent<unknown>[] => sent.all(),

    /** Registers a webhook in the app, as the developer dashboard does (replaces one with the same id). */
    addWebhook: (spec: WebhookSpec): void => webhooks.add(spec),
    removeWebhook: (id: string): void => webhooks.remove(id),

    fault: (spec: FaultSpec): FaultHandle => faults.add(spec),
    clearFaults: (): void => faults.clear(),
    /** Forget issued tokens: the next API call with a cached token gets 401 invalid_token. */
    revokeTokens: (): void => tokens.clear(),
    clearRequests: (): void => {
      requests.length = 0;
    },
    /** Log, faults, subscriptions, disputes, sent events and idempotency keys; issued tokens stay valid so a client under test keeps working. */
    reset: (): void => {
      requests.length = 0;
      faults.clear();
      state.clear();
      disputes.clear();
      routes.clear();
      sent.clear();
    },
    close: async (): Promise<void> => {
      delays.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
