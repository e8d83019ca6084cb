import { z } from 'zod';
import { paypalTime } from './ids.ts';
import { SIGNING_CERT_PEM, WRONG_CN_CERT_PEM } from './sign-webhook.ts';
import { SPECIAL_CERTS, WRONG_CN_CERT_NAME } from './deliver.ts';
import { disputeJson, type DisputeStore } from './disputes.ts';
import {
  billingPlanJson,
  createdSubscriptionJson,
  errorJson,
  invalidRequestJson,
  notFoundJson,
  statusInvalidJson,
  saleJson,
  subscriptionJson,
  transactionJson,
} from './shapes.ts';
import type { StandInState, StoredSubscription, SubscriptionStatus } from './state.ts';
import type { WebhookRegistry } from './webhooks.ts';

/**
 * The REST endpoints, as pure functions from a parsed request to a reply. The
 * server in server.ts handles sockets, authentication, faults and the log.
 */

export interface Reply {
  status: number;
  /** JSON body; none for 204. */
  json?: unknown;
  /** A non-JSON body with its content type. */
  text?: { body: string; contentType: string };
  headers?: Record<string, string>;
}

export interface ParsedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const CreateBody = z.object({
  plan_id: z.string().min(3).max(50),
  custom_id: z.string().max(127).optional(),
  application_context: z.looseObject({ return_url: z.string().optional(), cancel_url: z.string().optional() }).optional(),
  start_time: z.iso.datetime({ offset: true }).optional(),
  plan: z
    .looseObject({
      payment_preferences: z
        .looseObject({
          setup_fee: z.object({ currency_code: z.string().length(3), value: z.string().regex(/^\d{1,10}(\.\d{1,2})?$/) }).optional(),
          setup_fee_failure_action: z.enum(['CONTINUE', 'CANCEL']).optional(),
        })
        .optional(),
    })
    .optional(),
});
const ReasonBody = z.object({ reason: z.string().min(1).max(128) });
const OptionalReasonBody = z.object({ reason: z.string().max(128).optional() }).optional();
const ReviseBody = z.object({ plan_id: z.string().min(3).max(50) });

const PLAN_PATH = /^\/v1\/billing\/plans\/([^/]+)$/;
const DISPUTE_PATH = /^\/v1\/customer\/disputes\/([^/]+)$/;
const SALE_PATH = /^\/v1\/payments\/sale\/([^/]+)$/;
const SUB_PATH = /^\/v1\/billing\/subscriptions\/([^/]+)(?:\/(cancel|suspend|activate|revise|transactions))?$/;

/** Which statuses each action accepts, and what it leads to (PayPal's own 422 texts). */
const TRANSITIONS: Record<'cancel' | 'suspend' | 'activate', { from: SubscriptionStatus[]; to: SubscriptionStatus; message: string }> = {
  cancel: {
    from: ['ACTIVE', 'SUSPENDED', 'APPROVED'],
    to: 'CANCELLED',
    message: 'Invalid subscription status for cancel action; subscription status should be active or suspended.',
  },
  suspend: { from: ['ACTIVE'], to: 'SUSPENDED', message: 'Invalid subscription status for suspend action; subscription status should be active.' },
  activate: { from: ['SUSPENDED', 'APPROVED'], to: 'ACTIVE', message: 'Invalid subscription status for activate action; subscription status should be suspended.' },
};

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function schemaError(err: z.ZodError, body: unknown): Reply {
  const issue = err.issues[0];
  const path = issue?.path ?? [];
  const field = `/${path.map(String).join('/')}`;
  const missing = valueAt(body, path) === undefined;
  return { status: 400, json: invalidRequestJson(field, missing ? 'MISSING_REQUIRED_PARAMETER' : 'INVALID_PARAMETER_SYNTAX', issue?.message ?? 'invalid') };
}

export function createRoutes(o: { base: string; state: StandInState; disputes: DisputeStore; webhooks: WebhookRegistry; now: () => Date }) {
  /** Ids already used in `PayPal-Request-Id`, with the answer PayPal replays for 72 hours. */
  const idempotent = new Map<string, Reply>();

  function createSubscription(req: ParsedRequest): Reply {
    const requestId = req.headers['paypal-request-id'];
    const key = typeof requestId === 'string' ? requestId : undefined;
    const replay = key ? idempotent.get(key) : undefined;
    if (replay) return replay;
    const parsed = CreateBody.safeParse(req.body);
    if (!parsed.success) return schemaError(parsed.error, req.body);
    const plan = o.state.planFor(parsed.data.plan_id);
    if (!plan) {
      return {
        status: 422,
        json: errorJson('UNPROCESSABLE_ENTITY', 'The requested action could not be performed, semantically incorrect, or failed business validation.', [
          { field: '/plan_id', location: 'body', issue: 'INVALID_RESOURCE_ID', description: 'Requested resource ID was not found.' },
        ]),
      };
    }
    const ctx = parsed.data.application_context;
    const prefs = parsed.data.plan?.payment_preferences;
    const sub = o.state.create({
      planId: plan.id,
      customId: parsed.data.custom_id ?? null,
      returnUrl: ctx?.return_url ?? null,
      cancelUrl: ctx?.cancel_url ?? null,
      ...(parsed.data.start_time ? { startTime: paypalTime(new Date(parsed.data.start_time)) } : {}),
      ...(prefs?.setup_fee ? { setupFee: { value: prefs.setup_fee.value, currency: prefs.setup_fee.currency_code } } : {}),
      ...(prefs?.setup_fee_failure_action ? { setupFeeFailureAction: prefs.setup_fee_failure_action } : {}),
    });
    const reply: Reply = { status: 201, json: createdSubscriptionJson(o.base, sub, plan) };
    if (key) idempotent.set(key, reply);
    return reply;
  }

  function transition(sub: StoredSubscription, action: 'cancel' | 'suspend' | 'activate', body: unknown): Reply {
    const parsed = action === 'activate' ? OptionalReasonBody.safeParse(body) : ReasonBody.safeParse(body);
    if (!parsed.success) return schemaError(parsed.error, body);
    const t = TRANSITIONS[action];
    if (!t.from.includes(sub.status)) return { status: 422, json: statusInvalidJson(t.message) };
    o.state.setStatus(sub.id, t.to, parsed.data?.reason);
    return { status: 204 };
  }

  function revise(sub: StoredSubscription, body: unknown): Reply {
    const parsed = ReviseBody.safeParse(body);
    if (!parsed.success) return schemaError(parsed.error, body);
    if (sub.status !== 'ACTIVE' && sub.status !== 'SUSPENDED') {
      return { status: 422, json: statusInvalidJson('Invalid subscription status for revise action; subscription status should be active or suspended.') };
    }
    const plan = o.state.planFor(parsed.data.plan_id);
    if (!plan) return { status: 422, json: statusInvalidJson(`Plan ${parsed.data.plan_id} cannot be used for this subscription.`) };
    const revised = o.state.requestRevision(sub.id, plan.id);
    const token = revised.pendingRevision?.approvalToken ?? '';
    return {
      status: 200,
      json: {
        plan_id: plan.id,
        effective_time: paypalTime(o.now()),
        shipping_amount: { currency_code: plan.currency, value: '0.0' },
        plan_overridden: false,
        links: [{ href: `${o.base}/checkoutnow?ba_token=${token}`, rel: 'approve', method: 'GET' }],
      },
    };
  }

  function transactions(sub: StoredSubscription, query: URLSearchParams): Reply {
    const start = Date.parse(query.get('start_time') ?? '');
    const end = Date.parse(query.get('end_time') ?? '');
    if (Number.isNaN(start) || Number.isNaN(end)) {
      return { status: 400, json: invalidRequestJson('start_time', 'INVALID_PARAMETER_SYNTAX', 'start_time and end_time must be ISO 8601 times.') };
    }
    const list = sub.sales.filter((s) => Date.parse(s.time) >= start && Date.parse(s.time) <= end).map((s) => transactionJson(s, sub));
    return {
      status: 200,
      json: {
        transactions: list,
        total_items: list.length,
        total_pages: 1,
        links: [{ href: `${o.base}/v1/billing/subscriptions/${sub.id}/transactions?${query.toString()}`, rel: 'SELF', method: 'GET' }],
      },
    };
  }

  /**
   * Not PayPal's API: the buyer's side of the approve link, so a demo can
   * click it. Approves (or accepts the revision) and sends the buyer back to
   * return_url with the query PayPal adds.
   */
  function checkout(query: URLSearchParams): Reply {
    const token = query.get('ba_token') ?? '';
    const found = o.state.findByToken(token);
    if (!found) return { status: 404, text: { body: '<p>Unknown approval token.</p>', contentType: 'text/html' } };
    if (found.revision) o.state.approveRevision(found.sub.id);
    else if (found.sub.status === 'APPROVAL_PENDING') o.state.approve(found.sub.id);
    const back = found.sub.returnUrl;
    if (!back) return { status: 200, text: { body: `<p>Approved ${found.sub.id}.</p>`, contentType: 'text/html' } };
    const target = new URL(back);
    target.searchParams.set('subscription_id', found.sub.id);
    target.searchParams.set('ba_token', token);
    target.searchParams.set('token', token.replace(/^BA-/, ''));
    return { status: 302, headers: { location: target.toString() } };
  }

  function certificate(name: string): Reply {
    const pem = name === WRONG_CN_CERT_NAME ? WRONG_CN_CERT_PEM : (SPECIAL_CERTS[name]?.pem ?? SIGNING_CERT_PEM);
    return { status: 200, text: { body: pem, contentType: 'text/plain' } };
  }

  /** Routes that PayPal serves without a bearer token. */
  function handlePublic(req: ParsedRequest): Reply | undefined {
    if (req.method === 'GET' && req.path.startsWith('/v1/notifications/certs/')) return certificate(req.path.slice('/v1/notifications/certs/'.length));
    if (req.method === 'GET' && req.path === '/checkoutnow') return checkout(req.query);
    return undefined;
  }

  function plan(id: string): Reply {
    const p = o.state.planFor(id);
    return p ? { status: 200, json: billingPlanJson(o.base, p) } : { status: 404, json: notFoundJson(id) };
  }

  function dispute(id: string): Reply {
    const d = o.disputes.getDispute(id);
    return d ? { status: 200, json: disputeJson(o.base, d) } : { status: 404, json: notFoundJson(id) };
  }

  function sale(id: string): Reply {
    const found = o.state.findSale(id);
    return found ? { status: 200, json: saleJson(o.base, found) } : { status: 404, json: notFoundJson(id) };
  }

  /** Reads outside the subscriptions path: plans, disputes, sales and the app's webhooks. */
  function handleOther(req: ParsedRequest): Reply | undefined {
    if (req.method !== 'GET') return undefined;
    if (req.path === '/v1/notifications/webhooks') return { status: 200, json: o.webhooks.listJson(o.base) };
    const p = PLAN_PATH.exec(req.path);
    if (p) return plan(decodeURIComponent(p[1] ?? ''));
    const d = DISPUTE_PATH.exec(req.path);
    if (d) return dispute(decodeURIComponent(d[1] ?? ''));
    const sl = SALE_PATH.exec(req.path);
    if (sl) return sale(decodeURIComponent(sl[1] ?? ''));
    return undefined;
  }

  function handle(req: ParsedRequest): Reply {
    if (req.path === '/v1/billing/subscriptions' && req.method === 'POST') return createSubscription(req);
    const other = handleOther(req);
    if (other) return other;
    const m = SUB_PATH.exec(req.path);
    if (!m) return { status: 404, json: errorJson('NOT_FOUND', `No route for ${req.method} ${req.path} in the PayPal stand-in.`) };
    const [, id = '', action] = m;
    const sub = o.state.get(id);
    if (!sub) return { status: 404, json: notFoundJson(id) };
    if (req.method === 'GET' && action === undefined) {
      const fields = (req.query.get('fields') ?? '').split(',').map((f) => f.trim());
      return { status: 200, json: subscriptionJson(o.base, sub, o.state.planFor(sub.planId), fields) };
    }
    if (req.method === 'GET' && action === 'transactions') return transactions(sub, req.query);
    if (req.method === 'POST' && (action === 'cancel' || action === 'suspend' || action === 'activate')) return transition(sub, action, req.body);
    if (req.method === 'POST' && action === 'revise') return revise(sub, req.body);
    return { status: 405, json: errorJson('METHOD_NOT_SUPPORTED', `${req.method} is not supported on ${req.path}.`) };
  }

  return { handle, handlePublic, clear: (): void => idempotent.clear() };
}
