import type { Policy } from './tiers.ts';
import { addInterval, DAY_MS, later, parseIso } from './time.ts';

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
    lastPayment?: { time?: string };
    failedPaymentsCount: number;
    lastFailedPayment?: { time: string };
  };
  plan?: { billingCycles?: { tenureType?: string; frequency?: { intervalUnit?: string; intervalCount?: number } }[] };
}

/** What the store knew before this read; facts PayPal may omit later are kept. */
export interface KnownFacts {
  state: SubscriptionState | null;
  planId: string | null;
  nextBillingAt: number | null;
  lastPaymentAt: number | null;
  intervalUnit: string | null;
  intervalCount: number | null;
  /** Kept so a read without last_failed_payment does not restart the grace period. */
  lastFailedPaymentAt: number | null;
  revokedAt: number | null;
}

export const NOTHING_KNOWN: KnownFacts = {
  state: null,
  planId: null,
  nextBillingAt: null,
  lastPaymentAt: null,
  intervalUnit: null,
  intervalCount: null,
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
  intervalUnit: string | null;
  intervalCount: number | null;
  paidThrough: number | null;
  graceUntil: number | null;
  /** When access ends; null while active (open-ended); a time <= now means no access. */
  accessUntil: number | null;
  failedPaymentsCount: number;
  lastFailedPaymentAt: number | null;
}

function regularInterval(view: PaypalSubscriptionView): { unit: string; count: number } | null {
  const cycles = view.plan?.billingCycles ?? [];
  const regular = cycles.find((c) => c.tenureType === 'REGULAR') ?? cycles[cycles.length - 1];
  const unit = regular?.frequency?.intervalUnit;
  if (unit === undefined) return null;
  return { unit, count: regular?.frequency?.intervalCount ?? 1 };
}

/** Paid-through: the later of next_billing_time seen while ACTIVE and the last payment plus one interval. */
export function computePaidThrough(f: { nextBillingAt: number | null; lastPaymentAt: number | null; intervalUnit: string | null; intervalCount: number | null }): number | null {
  const byPayment = f.lastPaymentAt !== null && f.intervalUnit !== null ? addInterval(f.lastPaymentAt, f.intervalUnit, f.intervalCount ?? 1) : null;
  return later(f.nextBillingAt, byPayment);
}

export function deriveSubscription(view: PaypalSubscriptionView, known: KnownFacts, policy: Policy, now: number): DerivedSubscription {
  const status = view.status ?? 'APPROVAL_PENDING';
  const billing = view.billingInfo;
  const failedPaymentsCount = billing?.failedPaymentsCount ?? 0;
  const lastPaymentAt = later(known.lastPaymentAt, parseIso(billing?.lastPayment?.time));
  // A failure we already knew of still counts when PayPal omits it, unless a payment came after it.
  const knownFailure = known.lastFailedPaymentAt !== null && (lastPaymentAt === null || known.lastFailedPaymentAt > lastPaymentAt) ? known.lastFailedPaymentAt : null;
  const lastFailedPaymentAt = parseIso(billing?.lastFailedPayment?.time) ?? knownFailure;
  const interval = regularInterval(view);
  const intervalUnit = interval?.unit ?? known.intervalUnit;
  const intervalCount = interval?.count ?? known.intervalCount;
  const paymentFailing = failedPaymentsCount > 0 && !(lastPaymentAt !== null && lastFailedPaymentAt !== null && lastPaymentAt > lastFailedPaymentAt);
  // next_billing_time counts toward paid-through only while ACTIVE and paid up:
  // while a payment is failing PayPal moves it along its retry schedule.
  const nextBillingAt = status === 'ACTIVE' && !paymentFailing ? (parseIso(billing?.nextBillingTime) ?? known.nextBillingAt) : known.nextBillingAt;
  const paidThrough = computePaidThrough({ nextBillingAt, lastPaymentAt, intervalUnit, intervalCount });
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
    intervalUnit,
    intervalCount,
    paidThrough,
    graceUntil,
    accessUntil,
    failedPaymentsCount,
    lastFailedPaymentAt,
  };
}

export type Access = { has: false } | { has: true; until: number | null };

/** Whether a stored subscription gives access at `now`, and until when (null = while PayPal keeps it active). */
export function accessOf(s: { state: string; accessUntil: number | null; revokedAt: number | null }, now: number): Access {
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
