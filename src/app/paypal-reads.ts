import type { PlanPrice } from '../core/paid-plan.ts';
import type { PaypalSubscriptionView } from '../core/subscription-state.ts';
import { ConciergeError } from '../errors.ts';
import type { SubscriptionRead } from './apply-subscription.ts';

/**
 * The PayPal reads that event processing, the return page, /cancel and
 * upgrades need (src/paypal/client.ts implements them). Every notification
 * is confirmed through them before anything changes.
 */

/** One entry of a subscription's transaction list (the SDK's SubscriptionTransactionDetails, structurally). */
export interface TransactionView {
  id: string;
  /** COMPLETED, PARTIALLY_REFUNDED, REFUNDED, REVERSED, DECLINED, PENDING… */
  status?: string;
  amountWithBreakdown: { grossAmount: { currencyCode: string; value: string } };
  time: string;
}

export interface DisputeView {
  id: string;
  /** INQUIRY, CHARGEBACK, PRE_ARBITRATION, ARBITRATION */
  stage: string | null;
  status: string | null;
  /** The seller transaction (sale) ids PayPal names as disputed. */
  saleIds: string[];
  /** When PayPal opened the dispute (ISO); a chargeback's revocation counts from then. */
  createTime: string | null;
}

/** A sale as PayPal reports it alone (v1): the subscription it belongs to, null for none. */
export interface SaleView {
  id: string;
  subscriptionId: string | null;
}

export interface PaypalReads {
  getSubscription(id: string): Promise<PaypalSubscriptionView>;
  getPlan(planId: string): Promise<PlanPrice>;
  listTransactions(id: string, start: Date, end: Date): Promise<TransactionView[]>;
  getDispute(id: string): Promise<DisputeView>;
  getSale(id: string): Promise<SaleView>;
}

/** PayPal answered 404: an answer (it does not know the id), not a failure to retry. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ConciergeError && err.code === 'paypal_not_found';
}

/**
 * Fetch-on-notify: the subscription as PayPal reports it now, with its
 * plan's catalogue price (the price a payment must reach for the plan to
 * count; a subscription's own plan override is not trusted for that). A plan
 * PayPal does not know has no price; any other failure throws (retry).
 */
export async function readSubscription(paypal: Pick<PaypalReads, 'getSubscription' | 'getPlan'>, id: string): Promise<SubscriptionRead> {
  const view = await paypal.getSubscription(id);
  let planPrice: PlanPrice | null = null;
  if (view.planId !== undefined && view.planId !== '') {
    try {
      planPrice = await paypal.getPlan(view.planId);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return { view: { ...view, id }, planPrice };
}
