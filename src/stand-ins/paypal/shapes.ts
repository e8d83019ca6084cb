import { debugId, money } from './ids.ts';
import type { Money, PlanSpec, StoredSale, StoredSubscription } from './model.ts';

/**
 * PayPal's JSON, snake_case, exactly as the REST API writes it. The SDK
 * validates responses strictly (a billing_info without outstanding_balance or
 * failed_payments_count fails the whole call), so every required field is
 * here even when a test does not care about it.
 */

export interface Link {
  href: string;
  rel: string;
  method: 'GET' | 'POST' | 'PATCH';
}

const amountOf = (value: string, currency: string) => ({ currency_code: currency, value });

export function subscriptionLinks(base: string, sub: StoredSubscription): Link[] {
  const self = `${base}/v1/billing/subscriptions/${sub.id}`;
  const approve: Link = { href: `${base}/checkoutnow?ba_token=${sub.approvalToken}`, rel: 'approve', method: 'GET' };
  const edit: Link = { href: self, rel: 'edit', method: 'PATCH' };
  const selfLink: Link = { href: self, rel: 'self', method: 'GET' };
  const post = (rel: string): Link => ({ href: `${self}/${rel}`, rel, method: 'POST' });
  switch (sub.status) {
    case 'APPROVAL_PENDING':
      return [approve, edit, selfLink];
    case 'APPROVED':
      return [post('activate'), post('cancel'), edit, selfLink];
    case 'ACTIVE':
      return [post('cancel'), edit, selfLink, post('suspend'), post('capture')];
    case 'SUSPENDED':
      return [post('cancel'), post('activate'), edit, selfLink, post('capture')];
    case 'CANCELLED':
    case 'EXPIRED':
      return [selfLink];
  }
}

/** The answer to POST /v1/billing/subscriptions. */
export function createdSubscriptionJson(base: string, sub: StoredSubscription, plan: PlanSpec) {
  return {
    id: sub.id,
    status: sub.status,
    status_update_time: sub.statusUpdateTime,
    plan_id: sub.planId,
    plan_overridden: sub.setupFee !== null,
    start_time: sub.startTime,
    quantity: '1',
    shipping_amount: amountOf('0.0', plan.currency),
    ...(sub.customId === null ? {} : { custom_id: sub.customId }),
    create_time: sub.createTime,
    links: subscriptionLinks(base, sub),
  };
}

/**
 * GET /v1/billing/subscriptions/{id}. `fields` is PayPal's opt-in list:
 * `plan` adds the plan, `last_failed_payment` the last failure. Only an
 * ACTIVE subscription has a next_billing_time: PayPal drops it once a
 * subscription is cancelled or suspended.
 */
export function subscriptionJson(base: string, sub: StoredSubscription, plan: PlanSpec | undefined, fields: readonly string[] = []) {
  const currency = plan?.currency ?? 'USD';
  const approved = sub.subscriber !== null;
  return {
    id: sub.id,
    plan_id: sub.planId,
    start_time: sub.startTime,
    quantity: '1',
    shipping_amount: amountOf('0.0', currency),
    ...(sub.subscriber
      ? {
          subscriber: {
            email_address: sub.subscriber.email,
            payer_id: sub.subscriber.payerId,
            name: { given_name: sub.subscriber.givenName, surname: sub.subscriber.surname },
          },
        }
      : {}),
    ...(approved ? { billing_info: billingInfoJson(sub, currency, fields.includes('last_failed_payment')) } : {}),
    create_time: sub.createTime,
    update_time: sub.updateTime,
    ...(sub.customId === null ? {} : { custom_id: sub.customId }),
    plan_overridden: sub.setupFee !== null,
    ...(fields.includes('plan') && plan ? { plan: { ...planJson(plan), payment_preferences: paymentPreferencesJson(sub.setupFee ?? zero(plan), sub.setupFeeFailureAction) } } : {}),
    links: subscriptionLinks(base, sub),
    status: sub.status,
    ...(sub.statusChangeNote === null ? {} : { status_change_note: sub.statusChangeNote }),
    status_update_time: sub.statusUpdateTime,
  };
}

function billingInfoJson(sub: StoredSubscription, currency: string, withLastFailed: boolean) {
  const f = sub.lastFailedPayment;
  return {
    outstanding_balance: amountOf(sub.outstandingBalance, currency),
    cycle_executions: [
      {
        tenure_type: 'REGULAR',
        sequence: 1,
        cycles_completed: sub.cyclesCompleted,
        cycles_remaining: 0,
        current_pricing_scheme_version: 1,
        total_cycles: 0,
      },
    ],
    ...(sub.lastPayment ? { last_payment: { amount: amountOf(sub.lastPayment.amount, sub.lastPayment.currency), time: sub.lastPayment.time } } : {}),
    ...(sub.status === 'ACTIVE' && sub.nextBillingTime ? { next_billing_time: sub.nextBillingTime } : {}),
    failed_payments_count: sub.failedPaymentsCount,
    ...(withLastFailed && f
      ? {
          last_failed_payment: {
            amount: amountOf(f.amount, f.currency),
            time: f.time,
            reason_code: f.reasonCode,
            next_payment_retry_time: f.nextPaymentRetryTime,
          },
        }
      : {}),
  };
}

/** total_cycles 0 = renews until cancelled, as a membership does. */
export function planJson(plan: PlanSpec) {
  return {
    ...(plan.name ? { name: plan.name } : {}),
    billing_cycles: [
      {
        frequency: { interval_unit: plan.intervalUnit, interval_count: plan.intervalCount },
        tenure_type: 'REGULAR',
        sequence: 1,
        total_cycles: 0,
        pricing_scheme: { version: 1, fixed_price: amountOf(plan.price, plan.currency) },
      },
    ],
  };
}

const zero = (plan: PlanSpec): Money => ({ value: '0.0', currency: plan.currency });

/** PayPal's defaults for a plan created without payment preferences, but for the setup fee. */
function paymentPreferencesJson(setupFee: Money, failureAction: 'CONTINUE' | 'CANCEL') {
  return {
    auto_bill_outstanding: true,
    setup_fee: amountOf(setupFee.value, setupFee.currency),
    setup_fee_failure_action: failureAction,
    payment_failure_threshold: 3,
  };
}

/** The fixture plans exist before any subscription; their catalog product is one membership product. */
const PLAN_CREATE_TIME = '2024-01-01T00:00:00Z';
const PRODUCT_ID = 'PROD-5FC18574UJ1236839';

/** GET /v1/billing/plans/{id}. */
export function billingPlanJson(base: string, plan: PlanSpec) {
  const self = `${base}/v1/billing/plans/${plan.id}`;
  return {
    id: plan.id,
    product_id: PRODUCT_ID,
    name: plan.name ?? plan.id,
    status: 'ACTIVE',
    ...planJson(plan),
    payment_preferences: paymentPreferencesJson(zero(plan), 'CONTINUE'),
    quantity_supported: false,
    create_time: PLAN_CREATE_TIME,
    update_time: PLAN_CREATE_TIME,
    links: [
      { href: self, rel: 'self', method: 'GET' },
      { href: self, rel: 'edit', method: 'PATCH' },
      { href: `${self}/deactivate`, rel: 'self', method: 'POST' },
    ],
  };
}

export function transactionJson(sale: StoredSale, sub: StoredSubscription) {
  const net = money(Number(sale.amount) - Number(sale.fee));
  return {
    status: sale.status,
    id: sale.id,
    amount_with_breakdown: {
      gross_amount: amountOf(sale.amount, sale.currency),
      fee_amount: amountOf(sale.fee, sale.currency),
      net_amount: amountOf(net, sale.currency),
    },
    payer_name: { given_name: sub.subscriber?.givenName ?? 'John', surname: sub.subscriber?.surname ?? 'Doe' },
    payer_email: sub.subscriber?.email ?? 'buyer@example.com',
    time: sale.time,
  };
}

/**
 * GET /v1/payments/sale/{id}, and the resource of PAYMENT.SALE.COMPLETED: a
 * v1 sale, whose billing_agreement_id is the subscription it paid. Its state
 * is the sale's now, in v1's lower case (PayPal lists completed,
 * partially_refunded, refunded; "reversed" stands in for a chargeback here).
 */
export function saleJson(base: string, sale: StoredSale) {
  const self = `${base}/v1/payments/sale/${sale.id}`;
  return {
    id: sale.id,
    state: sale.status.toLowerCase(),
    amount: { total: sale.amount, currency: sale.currency, details: { subtotal: sale.amount } },
    payment_mode: 'INSTANT_TRANSFER',
    protection_eligibility: 'ELIGIBLE',
    protection_eligibility_type: 'ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE',
    transaction_fee: { value: sale.fee, currency: sale.currency },
    billing_agreement_id: sale.subscriptionId,
    create_time: sale.time,
    update_time: sale.time,
    links: [
      { href: self, rel: 'self', method: 'GET' },
      { href: `${self}/refund`, rel: 'refund', method: 'POST' },
    ],
  };
}

// ---- error bodies --------------------------------------------------------

export interface ErrorDetail {
  issue: string;
  description?: string;
  field?: string;
  location?: string;
}

export function errorJson(name: string, message: string, details?: ErrorDetail[]) {
  return {
    name,
    message,
    debug_id: debugId(),
    ...(details ? { details } : {}),
    links: [{ href: `https://developer.paypal.com/docs/api/v1/billing/subscriptions#${name}`, rel: 'information_link', method: 'GET' }],
  };
}

export const notFoundJson = (what: string) =>
  errorJson('RESOURCE_NOT_FOUND', 'The specified resource does not exist.', [
    { issue: 'INVALID_RESOURCE_ID', description: `Requested resource ID was not found. (${what})` },
  ]);

export const statusInvalidJson = (description: string) =>
  errorJson('UNPROCESSABLE_ENTITY', 'The requested action could not be performed, semantically incorrect, or failed business validation.', [
    { issue: 'SUBSCRIPTION_STATUS_INVALID', description },
  ]);

export const invalidRequestJson = (field: string, issue: string, description: string) =>
  errorJson('INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', [
    { field, location: 'body', issue, description },
  ]);

/** The default body for a fault with a status and no body of its own. */
export function faultBodyFor(status: number) {
  if (status === 429) return { name: 'RATE_LIMIT_REACHED', message: 'Too many requests. Blocked due to rate limiting.', debug_id: debugId() };
  if (status >= 500) return { name: 'INTERNAL_SERVICE_ERROR', message: 'An internal service error has occurred.', debug_id: debugId() };
  if (status === 404) return notFoundJson('fault');
  return { name: 'INVALID_REQUEST', message: `Fault injected with status ${status}.`, debug_id: debugId() };
}
