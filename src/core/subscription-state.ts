import type { Policy } from './tiers.ts';
import { DAY_MS, later, parseIso } from './time.ts';

/**
 * Maps a PayPal subscription, as the SDK returns it, to Concierge's state
 * (SPEC "Subscription lifecycle" and "Paid-through"). Pure: the clock comes
 * in as `now`, what the store already knows comes in as `known`.
 */

export const SUBSCRIPTION_STATES = ['pending', 'active', 'past_due', 'cancelled', 'suspended', 'expired', 'revoked', 'abandoned'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** The part of the SDK's `Subscription` we read (structurally compatible with it). */
export interface PaypalSubscriptionView {
  id?: string;
  planId?: string;
  customId?: string;
  status?: string;
  statusUpdateTime?: string;
  updateTime?: string;
  billingInfo?: {
    nextBillingTime?: string;
    lastPayment?: { time?: string; amount?: { currencyCode?: string; value?: string } };
    failedPaymentsCount: number;
    lastFailedPayment?: { time: string };
  };
}

/** What the store knew before this read; facts PayPal may omit later are kept. */
export interface KnownFacts {
  state: SubscriptionState | null;
  planId: string | null;
  nextBillingAt: number | null;
  lastPaymentAt: number | null;
  /** The end of the period the latest counted payment paid for (core/paid-plan.ts settlePayments). */
  paidUntil: number | null;
  /** Kept so a read without last_failed_payment does not restart the grace period. */
  lastFailedPaymentAt: number | null;
  revokedAt: number | null;
}

export const NOTHING_KNOWN: KnownFacts = {
  state: null,
  planId: null,
  nextBillingAt: null,
  lastPaymentAt: null,
  paidUntil: null,
  lastFailedPaymentAt: null,
  revokedAt: null,
};

export interface DerivedSubscription {
  state: SubscriptionState;
  paypalStatus: string;
  planId: string | null;
  customId: string | null;
  paypalUpdatedAt: number | null;
  nextBillingAt: number | null;
  lastPaymentAt: number | null;
  paidThrough: number | null;
  graceUntil: number | null;
  /** When access ends; null while active (open-ended); a time <= now means no access. */
  accessUntil: number | null;
  failedPaymentsCount: number;
  lastFailedPaymentAt: number | null;
}

/**
 * Paid-through: the later of next_billing_time seen while ACTIVE and the end
 * of the period the latest counted payment paid for. The payment's period is
 * its own plan's interval, fixed when it was counted: a plan change later
 * never re-reads an old payment through a newer plan.
 */
export function computePaidThrough(f: { nextBillingAt: number | null; paidUntil: number | null }): number | null {
  return later(f.nextBillingAt, f.paidUntil);
}

export function deriveSubscription(view: PaypalSubscriptionView, known: KnownFacts, policy: Policy, now: number): DerivedSubscription {
  const status = view.status ?? 'APPROVAL_PENDING';
  const billing = view.billingInfo;
  const failedPaymentsCount = billing?.failedPaymentsCount ?? 0;
  const lastPaymentAt = later(known.lastPaymentAt, parseIso(billing?.lastPayment?.time));
  // A failure we already knew of still counts when PayPal omits it, unless a payment came after it.
  const knownFailure = known.lastFailedPaymentAt !== null && (lastPaymentAt === null || known.lastFailedPaymentAt > lastPaymentAt) ? known.lastFailedPaymentAt : null;
  const lastFailedPaymentAt = parseIso(billing?.lastFailedPayment?.time) ?? knownFailure;
  const paymentFailing = failedPaymentsCount > 0 && !(lastPaymentAt !== null && lastFailedPaymentAt !== null && lastPaymentAt > lastFailedPaymentAt);
  // next_billing_time counts toward paid-through only while ACTIVE and paid up:
  // while a payment is failing PayPal moves it along its retry schedule.
  const nextBillingAt = status === 'ACTIVE' && !paymentFailing ? (parseIso(billing?.nextBillingTime) ?? known.nextBillingAt) : known.nextBillingAt;
  const paidThrough = computePaidThrough({ nextBillingAt, paidUntil: known.paidUntil });
  const graceMs = policy.grace_days * DAY_MS;
  const changedAt = parseIso(view.statusUpdateTime) ?? now;

  let state: SubscriptionState;
  let graceUntil: number | null = null;
  let accessUntil: number | null = null;
  switch (status) {
    case 'ACTIVE':
      if (paymentFailing) {
        state = 'past_due';
        // Grace counts from the failure, or from when payment was due; never from "now", which would move on every read.
        graceUntil = (lastFailedPaymentAt ?? paidThrough ?? now) + graceMs;
        accessUntil = Math.max(paidThrough ?? 0, graceUntil);
      } else {
        state = 'active';
      }
      break;
    case 'SUSPENDED':
      // Grace counts from when payment was due (paid-through), so a suspension
      // after PayPal's retries does not extend access beyond it.
      state = 'suspended';
      graceUntil = (paidThrough ?? lastFailedPaymentAt ?? changedAt) + graceMs;
      accessUntil = graceUntil;
      break;
    case 'CANCELLED':
      state = 'cancelled';
      accessUntil = policy.on_cancel === 'immediate' ? Math.min(changedAt, now) : (paidThrough ?? Math.min(changedAt, now));
      break;
    case 'EXPIRED':
      state = 'expired';
      accessUntil = paidThrough ?? Math.min(changedAt, now);
      break;
    default:
      // APPROVAL_PENDING, APPROVED, or a status PayPal adds later: no access yet.
      state = known.state === 'abandoned' ? 'abandoned' : 'pending';
  }
  // A refund or chargeback stands whatever PayPal reports, until a later payment clears it.
  if (known.revokedAt !== null) state = 'revoked';

  return {
    state,
    paypalStatus: status,
    planId: view.planId ?? known.planId,
    customId: view.customId ?? null,
    paypalUpdatedAt: later(parseIso(view.updateTime), parseIso(view.statusUpdateTime)),
    nextBillingAt,
    lastPaymentAt,
    paidThrough,
    graceUntil,
    accessUntil,
    failedPaymentsCount,
    lastFailedPaymentAt,
  };
}

export type Access = { has: false } | { has: true; until: number | null };

/** Whether a stored subscription gives access at `now`, and until when (null = while PayPal keeps it active). */
export function decideAccess(s: { state: string; accessUntil: number | null; revokedAt: number | null }, now: number): Access {
  if (s.revokedAt !== null) return { has: false };
  switch (s.state) {
    case 'active':
      return { has: true, until: null };
    case 'past_due':
    case 'cancelled':
    case 'suspended':
    case 'expired':
      return s.accessUntil !== null && s.accessUntil > now ? { has: true, until: s.accessUntil } : { has: false };
    default:
      return { has: false };
  }
}
