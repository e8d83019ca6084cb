import { paypalTime, transactionId, webhookEventId } from './ids.ts';
import { disputeJson, type DisputeStage, type DisputeStore } from './disputes.ts';
import { saleJson, subscriptionJson, type Link } from './shapes.ts';
import type { StandInState } from './state.ts';

/**
 * Webhook envelopes as PayPal sends them. Building an event changes nothing in
 * the stand-in: drive the state first (approve, recordPayment, setStatus…),
 * then describe it, as PayPal does.
 */

export interface WebhookEvent<R = Record<string, unknown>> {
  id: string;
  event_version: string;
  create_time: string;
  resource_type: string;
  resource_version: string;
  event_type: string;
  summary: string;
  resource: R;
  links: Link[];
}

export interface EventOptions {
  id?: string;
  /** Default now. */
  createTime?: Date;
  summary?: string;
  /** Default from the event type: subscription, sale, dispute. */
  resourceType?: string;
  resourceVersion?: string;
}

export type SubscriptionEventType =
  | 'BILLING.SUBSCRIPTION.CREATED'
  | 'BILLING.SUBSCRIPTION.ACTIVATED'
  | 'BILLING.SUBSCRIPTION.UPDATED'
  | 'BILLING.SUBSCRIPTION.EXPIRED'
  | 'BILLING.SUBSCRIPTION.CANCELLED'
  | 'BILLING.SUBSCRIPTION.SUSPENDED'
  | 'BILLING.SUBSCRIPTION.PAYMENT.FAILED'
  | 'BILLING.SUBSCRIPTION.RE-ACTIVATED';

export type SaleEventType = 'PAYMENT.SALE.COMPLETED' | 'PAYMENT.SALE.REFUNDED' | 'PAYMENT.SALE.REVERSED';
export type DisputeEventType = 'CUSTOMER.DISPUTE.CREATED' | 'CUSTOMER.DISPUTE.UPDATED' | 'CUSTOMER.DISPUTE.RESOLVED';
export type { DisputeStage };

export interface DisputeOptions extends EventOptions {
  /** A stored dispute to describe, or the id to open a new one under. */
  disputeId?: string;
  /** Default by type: OPEN, UNDER_REVIEW, RESOLVED. */
  status?: string;
  reason?: string;
  /** For RESOLVED; default RESOLVED_BUYER_FAVOUR. */
  outcome?: string;
}

const SUBSCRIPTION_SUMMARIES: Record<SubscriptionEventType, string> = {
  'BILLING.SUBSCRIPTION.CREATED': 'Subscription created',
  'BILLING.SUBSCRIPTION.ACTIVATED': 'Subscription activated',
  'BILLING.SUBSCRIPTION.UPDATED': 'Subscription updated',
  'BILLING.SUBSCRIPTION.EXPIRED': 'Subscription expired',
  'BILLING.SUBSCRIPTION.CANCELLED': 'Subscription cancelled',
  'BILLING.SUBSCRIPTION.SUSPENDED': 'Subscription suspended',
  'BILLING.SUBSCRIPTION.PAYMENT.FAILED': 'Subscription payment failed',
  'BILLING.SUBSCRIPTION.RE-ACTIVATED': 'Subscription re-activated',
};

function resourceTypeOf(eventType: string): string {
  if (eventType.startsWith('BILLING.SUBSCRIPTION.')) return 'subscription';
  if (eventType.startsWith('PAYMENT.SALE.')) return 'sale';
  if (eventType.startsWith('CUSTOMER.DISPUTE.')) return 'dispute';
  if (eventType.startsWith('CHECKOUT.ORDER.')) return 'checkout-order';
  if (eventType.startsWith('PAYMENT.CAPTURE.')) return 'capture';
  return 'unknown';
}

export function createEvents(o: { base: string; state: StandInState; disputes: DisputeStore; now: () => Date }) {
  function event<R>(eventType: string, resource: R, opts: EventOptions = {}): WebhookEvent<R> {
    const id = opts.id ?? webhookEventId();
    const self = `${o.base}/v1/notifications/webhooks-events/${id}`;
    return {
      id,
      event_version: '1.0',
      create_time: (opts.createTime ?? o.now()).toISOString(),
      resource_type: opts.resourceType ?? resourceTypeOf(eventType),
      resource_version: opts.resourceVersion ?? '2.0',
      event_type: eventType,
      summary: opts.summary ?? `${eventType} event`,
      resource,
      links: [
        { href: self, rel: 'self', method: 'GET' },
        { href: `${self}/resend`, rel: 'resend', method: 'POST' },
      ],
    };
  }

  /** The resource is the subscription as it stands now, the way PayPal embeds it. */
  function subscriptionEvent(type: SubscriptionEventType, subscriptionId: string, opts: EventOptions = {}) {
    const sub = o.state.mustGet(subscriptionId);
    const resource = subscriptionJson(o.base, sub, o.state.planFor(sub.planId), ['last_failed_payment']);
    return event(type, resource, { summary: SUBSCRIPTION_SUMMARIES[type], ...opts });
  }

  /**
   * COMPLETED carries the sale (billing_agreement_id = the subscription id);
   * REFUNDED and REVERSED carry a refund whose sale_id names the sale, the only
   * link back to the subscription.
   */
  function saleEvent(type: SaleEventType, saleId: string, opts: EventOptions = {}) {
    const sale = o.state.findSale(saleId);
    if (!sale) throw new Error(`PayPal stand-in: no sale ${saleId} (record one with approve() or recordPayment())`);
    const amount = { total: sale.amount, currency: sale.currency };
    const saleUrl = `${o.base}/v1/payments/sale/${sale.id}`;
    if (type === 'PAYMENT.SALE.COMPLETED') {
      // The event describes the sale as it completed, whatever happened to it since.
      const resource = { ...saleJson(o.base, sale), state: 'completed' };
      return event(type, resource, { summary: `Payment completed for $ ${sale.amount} ${sale.currency}`, ...opts });
    }
    const refundId = transactionId();
    const at = paypalTime(o.now());
    const resource = {
      id: refundId,
      state: 'completed',
      amount,
      sale_id: sale.id,
      ...(type === 'PAYMENT.SALE.REVERSED' ? { reason_code: 'BUYER_COMPLAINT' } : {}),
      create_time: at,
      update_time: at,
      links: [
        { href: `${o.base}/v1/payments/refund/${refundId}`, rel: 'self', method: 'GET' },
        { href: saleUrl, rel: 'sale', method: 'GET' },
      ],
    };
    const summary =
      type === 'PAYMENT.SALE.REFUNDED'
        ? `A $ ${sale.amount} ${sale.currency} sale payment was refunded`
        : `A $ ${sale.amount} ${sale.currency} payment was reversed`;
    return event(type, resource, { summary, ...opts });
  }

  /**
   * The resource is the dispute as GET /v1/customer/disputes/{id} shows it,
   * so the app can look it up by dispute_id. With `disputeId` of a stored
   * dispute the event describes that dispute (its own stage and status: drive
   * them with setDisputeStage first); otherwise a dispute on the sale is opened
   * with `stage`. The sale may be one the stand-in never recorded.
   */
  function disputeEvent(type: DisputeEventType, saleId: string, stage: DisputeStage, opts: DisputeOptions = {}) {
    const stored = opts.disputeId ? o.disputes.getDispute(opts.disputeId) : undefined;
    const status = opts.status ?? (type === 'CUSTOMER.DISPUTE.CREATED' ? 'OPEN' : type === 'CUSTOMER.DISPUTE.UPDATED' ? 'UNDER_REVIEW' : 'RESOLVED');
    const reason = opts.reason ?? (stage === 'CHARGEBACK' ? 'UNAUTHORISED' : 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED');
    const d = stored ?? o.disputes.openDispute(saleId, { stage, status, reason, ...(opts.disputeId ? { id: opts.disputeId } : {}) });
    const json = disputeJson(o.base, d);
    const resource = {
      ...json,
      ...(opts.status ? { status: opts.status } : {}),
      ...(type === 'CUSTOMER.DISPUTE.RESOLVED'
        ? { dispute_outcome: { outcome_code: opts.outcome ?? 'RESOLVED_BUYER_FAVOUR', amount_refunded: json.dispute_amount } }
        : {}),
    };
    const verb = type === 'CUSTOMER.DISPUTE.CREATED' ? 'A new dispute opened' : type === 'CUSTOMER.DISPUTE.UPDATED' ? 'A dispute was updated' : 'A dispute was resolved';
    return event(type, resource, { summary: `${verb} with Case # ${d.id}`, ...opts });
  }

  return { event, subscriptionEvent, saleEvent, disputeEvent };
}
