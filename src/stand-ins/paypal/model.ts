import type { IntervalUnit } from './ids.ts';

/** What the stand-in stores (camelCase); shapes.ts turns it into PayPal's JSON. */

export type SubscriptionStatus = 'APPROVAL_PENDING' | 'APPROVED' | 'ACTIVE' | 'SUSPENDED' | 'CANCELLED' | 'EXPIRED';

/** An amount as PayPal writes it: `{ value: "9.99", currency: "USD" }`, never a number. */
export interface Money {
  value: string;
  currency: string;
}

export interface PlanSpec {
  id: string;
  intervalUnit: IntervalUnit;
  intervalCount: number;
  /** `"9.99"`: a string, as PayPal writes amounts. */
  price: string;
  currency: string;
  name?: string;
}

/**
 * PayPal's transaction statuses for a sale (listSubscriptionTransactions).
 * REVERSED is not in the SDK's CaptureStatus enum; the SDK passes it through.
 */
export type SaleStatus = 'COMPLETED' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'REVERSED';

export interface StoredSale {
  id: string;
  subscriptionId: string;
  /** Gross amount, e.g. `"9.99"`. */
  amount: string;
  currency: string;
  fee: string;
  /** PayPal time, e.g. `2026-01-01T10:00:00Z`. */
  time: string;
  status: SaleStatus;
  /** Sum of the refunds so far, e.g. `"2.00"`; `"0.00"` before any. */
  refunded: string;
}

export interface StoredFailedPayment {
  amount: string;
  currency: string;
  time: string;
  reasonCode: 'PAYMENT_DENIED';
  nextPaymentRetryTime: string;
}

export interface StoredSubscription {
  id: string;
  planId: string;
  customId: string | null;
  status: SubscriptionStatus;
  statusUpdateTime: string;
  statusChangeNote: string | null;
  createTime: string;
  updateTime: string;
  startTime: string;
  /** The create request's `start_time`; null = billing starts when the buyer approves. */
  requestedStartTime: string | null;
  /** The setup fee from the create request's plan override; null = the plan's (0.0). */
  setupFee: Money | null;
  /** PayPal's default is CONTINUE; CANCEL keeps an unpaid subscription from activating. */
  setupFeeFailureAction: 'CONTINUE' | 'CANCEL';
  /** The `ba_token` of the approve link. */
  approvalToken: string;
  returnUrl: string | null;
  cancelUrl: string | null;
  /** Set once the buyer approved. */
  subscriber: { payerId: string; email: string; givenName: string; surname: string } | null;
  lastPayment: { amount: string; currency: string; time: string } | null;
  nextBillingTime: string | null;
  cyclesCompleted: number;
  failedPaymentsCount: number;
  lastFailedPayment: StoredFailedPayment | null;
  outstandingBalance: string;
  /** A revision waiting for the buyer's consent (see `approveRevision`). */
  pendingRevision: { planId: string; approvalToken: string } | null;
  sales: StoredSale[];
}

export interface ShortcutSubscription {
  planId: string;
  customId?: string | null;
  status?: SubscriptionStatus;
  /** ISO time; default for an ACTIVE subscription: last payment (or now) + one interval. */
  nextBillingTime?: string;
  /** ISO time of a completed payment to record. */
  lastPaymentTime?: string;
}

export interface ApproveOptions {
  at?: Date;
  /** The buyer's funding source declines the setup fee: no sale; with CANCEL the subscription is CANCELLED. */
  setupFeeFails?: boolean;
}
