import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideAccess,
  computePaidThrough,
  deriveSubscription,
  NOTHING_KNOWN,
  SUBSCRIPTION_STATES,
  type DerivedSubscription,
  type KnownFacts,
  type PaypalSubscriptionView,
} from '../../src/core/subscription-state.ts';
import type { Policy } from '../../src/core/tiers.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

const T = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test time ${iso}`);
  return t;
};

const NOW = T('2024-03-15T12:00:00Z');
const GRACE3: Policy = { grace_days: 3, on_cancel: 'period_end', on_manual_role_edit: 'revert', on_partial_refund: 'keep' };
const GRACE0: Policy = { ...GRACE3, grace_days: 0 };
const IMMEDIATE: Policy = { ...GRACE3, on_cancel: 'immediate' };
const MEMBER = '300000000000000001';

/** Expected access at a time: `until` is checked when given (null = open-ended). */
type AccessCheck = { at: number; has: boolean; until?: number | null };

interface Row {
  name: string;
  view: PaypalSubscriptionView;
  known?: Partial<KnownFacts>;
  policy?: Policy;
  now?: number;
  expect: Partial<DerivedSubscription>;
  access: AccessCheck[];
}

const rows: Row[] = [
  // ── not yet paid ──────────────────────────────────────────────────────────
  {
    name: 'BILLING.SUBSCRIPTION.CREATED (APPROVAL_PENDING) → pending, no access',
    view: { status: 'APPROVAL_PENDING', planId: PLAN_IDS.eliteMonthly, customId: MEMBER },
    expect: { state: 'pending', paypalStatus: 'APPROVAL_PENDING', planId: PLAN_IDS.eliteMonthly, customId: MEMBER, paidThrough: null, accessUntil: null, graceUntil: null },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'APPROVED (buyer approved, not yet active) → pending, no access',
    view: { status: 'APPROVED', planId: PLAN_IDS.eliteMonthly, customId: MEMBER },
    expect: { state: 'pending', accessUntil: null },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'no status at all → pending, no access',
    view: { planId: PLAN_IDS.eliteMonthly },
    expect: { state: 'pending', paypalStatus: 'APPROVAL_PENDING' },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'unknown future PayPal status → pending, never grants (even if the store thought it active)',
    view: {
      status: 'ON_HOLD',
      billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' }, nextBillingTime: '2024-04-01T10:00:00Z' },
    },
    known: { state: 'active' },
    expect: { state: 'pending', paypalStatus: 'ON_HOLD', accessUntil: null },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'abandoned stays abandoned while PayPal still says APPROVAL_PENDING',
    view: { status: 'APPROVAL_PENDING', planId: PLAN_IDS.titanMonthly },
    known: { state: 'abandoned' },
    expect: { state: 'abandoned', accessUntil: null },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'abandoned, then PayPal says ACTIVE → active (PayPal decides)',
    view: { status: 'ACTIVE', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-15T10:00:00Z' }, nextBillingTime: '2024-04-15T10:00:00Z' } },
    known: { state: 'abandoned' },
    expect: { state: 'active', accessUntil: null },
    access: [{ at: NOW, has: true, until: null }],
  },

  // ── active ────────────────────────────────────────────────────────────────
  {
    name: 'BILLING.SUBSCRIPTION.ACTIVATED (ACTIVE) → active, open-ended access',
    view: {
      status: 'ACTIVE',
      planId: PLAN_IDS.titanMonthly,
      customId: MEMBER,
      statusUpdateTime: '2024-03-01T10:00:05Z',
      updateTime: '2024-03-01T10:00:09Z',
      billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' }, nextBillingTime: '2024-04-01T10:00:00Z' },
    },
    expect: {
      state: 'active',
      paypalStatus: 'ACTIVE',
      planId: PLAN_IDS.titanMonthly,
      customId: MEMBER,
      paypalUpdatedAt: T('2024-03-01T10:00:09Z'),
      nextBillingAt: T('2024-04-01T10:00:00Z'),
      lastPaymentAt: T('2024-03-01T10:00:00Z'),
      paidThrough: T('2024-04-01T10:00:00Z'),
      graceUntil: null,
      accessUntil: null,
      failedPaymentsCount: 0,
      lastFailedPaymentAt: null,
    },
    access: [
      { at: NOW, has: true, until: null },
      { at: T('2030-01-01T00:00:00Z'), has: true, until: null },
    ],
  },
  {
    name: 'BILLING.SUBSCRIPTION.RE-ACTIVATED after a suspension → active',
    view: { status: 'ACTIVE', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-14T08:00:00Z' }, nextBillingTime: '2024-04-14T08:00:00Z' } },
    known: { state: 'suspended', lastPaymentAt: T('2024-01-10T08:00:00Z'), nextBillingAt: T('2024-02-10T08:00:00Z') },
    expect: { state: 'active', lastPaymentAt: T('2024-03-14T08:00:00Z'), nextBillingAt: T('2024-04-14T08:00:00Z'), paidThrough: T('2024-04-14T08:00:00Z'), accessUntil: null },
    access: [{ at: NOW, has: true, until: null }],
  },
  {
    name: 'BILLING.SUBSCRIPTION.UPDATED (plan changed) → active on the new plan; next billing later than the monthly payment’s period → next billing',
    view: { status: 'ACTIVE', planId: PLAN_IDS.titanYearly, billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-10T08:00:00Z' }, nextBillingTime: '2025-03-10T08:00:00Z' } },
    known: { state: 'active', planId: PLAN_IDS.titanMonthly, paidUntil: T('2024-04-10T08:00:00Z') },
    expect: { state: 'active', planId: PLAN_IDS.titanYearly, paidThrough: T('2025-03-10T08:00:00Z') },
    access: [{ at: NOW, has: true, until: null }],
  },
  {
    name: 'PAYMENT.SALE.COMPLETED after a failure (ACTIVE, failed count > 0 but a later payment) → active',
    view: {
      status: 'ACTIVE',
      billingInfo: { failedPaymentsCount: 1, lastFailedPayment: { time: '2024-03-10T10:00:00Z' }, lastPayment: { time: '2024-03-12T10:00:00Z' }, nextBillingTime: '2024-04-12T10:00:00Z' },
    },
    expect: { state: 'active', failedPaymentsCount: 1, lastFailedPaymentAt: T('2024-03-10T10:00:00Z'), nextBillingAt: T('2024-04-12T10:00:00Z'), paidThrough: T('2024-04-12T10:00:00Z'), graceUntil: null, accessUntil: null },
    access: [{ at: NOW, has: true, until: null }],
  },
  {
    name: 'PAYMENT.SALE.COMPLETED recorded in the store clears past-due although PayPal omits last_payment',
    view: { status: 'ACTIVE', billingInfo: { failedPaymentsCount: 1, lastFailedPayment: { time: '2024-03-10T10:00:00Z' }, nextBillingTime: '2024-04-12T10:00:00Z' } },
    known: { lastPaymentAt: T('2024-03-12T10:00:00Z') },
    expect: { state: 'active', lastPaymentAt: T('2024-03-12T10:00:00Z'), nextBillingAt: T('2024-04-12T10:00:00Z'), accessUntil: null },
    access: [{ at: NOW, has: true, until: null }],
  },

  // ── past due ──────────────────────────────────────────────────────────────
  {
    name: 'BILLING.SUBSCRIPTION.PAYMENT.FAILED (ACTIVE, failed count > 0) → past_due, grace = last failure + 3 days',
    view: {
      status: 'ACTIVE',
      billingInfo: {
        failedPaymentsCount: 1,
        lastFailedPayment: { time: '2024-03-14T10:00:00Z' },
        lastPayment: { time: '2024-02-14T10:00:00Z' },
        // PayPal's retry date: must not count toward paid-through.
        nextBillingTime: '2024-03-19T10:00:00Z',
      },
    },
    known: { state: 'active', nextBillingAt: T('2024-03-14T10:00:00Z') },
    expect: {
      state: 'past_due',
      nextBillingAt: T('2024-03-14T10:00:00Z'),
      paidThrough: T('2024-03-14T10:00:00Z'),
      graceUntil: T('2024-03-17T10:00:00Z'),
      accessUntil: T('2024-03-17T10:00:00Z'),
      failedPaymentsCount: 1,
      lastFailedPaymentAt: T('2024-03-14T10:00:00Z'),
    },
    access: [
      { at: NOW, has: true, until: T('2024-03-17T10:00:00Z') },
      { at: T('2024-03-17T10:00:00Z') - 1, has: true },
      { at: T('2024-03-17T10:00:00Z'), has: false },
      { at: T('2024-03-20T00:00:00Z'), has: false },
    ],
  },
  {
    name: 'PAYMENT.FAILED with no next_billing_time known → the retry date is still not taken',
    view: {
      status: 'ACTIVE',
      billingInfo: { failedPaymentsCount: 2, lastFailedPayment: { time: '2024-03-14T10:00:00Z' }, lastPayment: { time: '2024-02-14T10:00:00Z' }, nextBillingTime: '2024-03-19T10:00:00Z' },
    },
    known: { paidUntil: T('2024-03-14T10:00:00Z') },
    expect: { state: 'past_due', nextBillingAt: null, paidThrough: T('2024-03-14T10:00:00Z'), graceUntil: T('2024-03-17T10:00:00Z'), accessUntil: T('2024-03-17T10:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2024-03-17T10:00:00Z') }],
  },
  {
    name: 'PAYMENT.FAILED with grace_days 0 → access ends at the failure',
    view: {
      status: 'ACTIVE',
      billingInfo: { failedPaymentsCount: 1, lastFailedPayment: { time: '2024-03-14T10:00:00Z' }, lastPayment: { time: '2024-02-14T10:00:00Z' }, nextBillingTime: '2024-03-19T10:00:00Z' },
    },
    known: { paidUntil: T('2024-03-14T10:00:00Z') },
    policy: GRACE0,
    expect: { state: 'past_due', paidThrough: T('2024-03-14T10:00:00Z'), graceUntil: T('2024-03-14T10:00:00Z'), accessUntil: T('2024-03-14T10:00:00Z') },
    access: [
      { at: T('2024-03-14T10:00:00Z') - 1, has: true },
      { at: NOW, has: false },
    ],
  },
  {
    name: 'PAYMENT.FAILED before paid-through ends → access kept until paid-through, not cut to the grace',
    view: {
      status: 'ACTIVE',
      billingInfo: { failedPaymentsCount: 1, lastFailedPayment: { time: '2024-03-11T10:00:00Z' }, lastPayment: { time: '2024-03-10T10:00:00Z' } },
    },
    known: { paidUntil: T('2024-04-10T10:00:00Z') },
    expect: { state: 'past_due', paidThrough: T('2024-04-10T10:00:00Z'), graceUntil: T('2024-03-14T10:00:00Z'), accessUntil: T('2024-04-10T10:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2024-04-10T10:00:00Z') }],
  },

  // ── suspended ─────────────────────────────────────────────────────────────
  {
    name: 'BILLING.SUBSCRIPTION.SUSPENDED → access ends grace_days after paid-through',
    view: {
      status: 'SUSPENDED',
      statusUpdateTime: '2024-03-15T09:00:00Z',
      billingInfo: { failedPaymentsCount: 2, lastFailedPayment: { time: '2024-03-15T08:00:00Z' }, lastPayment: { time: '2024-02-14T10:00:00Z' }, nextBillingTime: '2024-04-14T10:00:00Z' },
    },
    known: { state: 'past_due', nextBillingAt: T('2024-03-14T10:00:00Z') },
    expect: { state: 'suspended', nextBillingAt: T('2024-03-14T10:00:00Z'), paidThrough: T('2024-03-14T10:00:00Z'), graceUntil: T('2024-03-17T10:00:00Z'), accessUntil: T('2024-03-17T10:00:00Z') },
    access: [
      { at: NOW, has: true, until: T('2024-03-17T10:00:00Z') },
      { at: T('2024-03-17T10:00:00Z') - 1, has: true },
      { at: T('2024-03-17T10:00:00Z'), has: false },
    ],
  },
  {
    name: 'SUSPENDED long after paid-through → grace already over, no access',
    view: { status: 'SUSPENDED', statusUpdateTime: '2024-03-15T09:00:00Z', billingInfo: { failedPaymentsCount: 3, lastFailedPayment: { time: '2024-03-12T00:00:00Z' }, lastPayment: { time: '2024-02-01T00:00:00Z' } } },
    known: { paidUntil: T('2024-03-01T00:00:00Z') },
    expect: { state: 'suspended', paidThrough: T('2024-03-01T00:00:00Z'), graceUntil: T('2024-03-04T00:00:00Z'), accessUntil: T('2024-03-04T00:00:00Z') },
    access: [
      { at: T('2024-03-03T00:00:00Z'), has: true },
      { at: NOW, has: false },
    ],
  },
  {
    name: 'SUSPENDED with grace_days 0 → access ends at paid-through',
    view: { status: 'SUSPENDED', billingInfo: { failedPaymentsCount: 1, lastPayment: { time: '2024-02-20T00:00:00Z' } } },
    known: { paidUntil: T('2024-03-20T00:00:00Z') },
    policy: GRACE0,
    expect: { state: 'suspended', paidThrough: T('2024-03-20T00:00:00Z'), graceUntil: T('2024-03-20T00:00:00Z'), accessUntil: T('2024-03-20T00:00:00Z') },
    access: [
      { at: NOW, has: true, until: T('2024-03-20T00:00:00Z') },
      { at: T('2024-03-20T00:00:00Z'), has: false },
    ],
  },
  {
    name: 'SUSPENDED with no paid-through known → grace counted from the last failed payment',
    view: { status: 'SUSPENDED', statusUpdateTime: '2024-03-15T09:00:00Z', billingInfo: { failedPaymentsCount: 1, lastFailedPayment: { time: '2024-03-14T00:00:00Z' } } },
    expect: { state: 'suspended', paidThrough: null, graceUntil: T('2024-03-17T00:00:00Z'), accessUntil: T('2024-03-17T00:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2024-03-17T00:00:00Z') }],
  },

  // ── cancelled ─────────────────────────────────────────────────────────────
  {
    name: 'BILLING.SUBSCRIPTION.CANCELLED, policy period_end → access until paid-through (next billing seen while ACTIVE)',
    view: { status: 'CANCELLED', statusUpdateTime: '2024-03-15T09:00:00Z', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    known: { state: 'active', nextBillingAt: T('2024-04-01T10:00:00Z') },
    expect: { state: 'cancelled', paidThrough: T('2024-04-01T10:00:00Z'), graceUntil: null, accessUntil: T('2024-04-01T10:00:00Z') },
    access: [
      { at: NOW, has: true, until: T('2024-04-01T10:00:00Z') },
      { at: T('2024-04-01T10:00:00Z') - 1, has: true },
      { at: T('2024-04-01T10:00:00Z'), has: false },
    ],
  },
  {
    name: 'CANCELLED with the next_billing seen while ACTIVE later than the last payment’s paid period → the later one counts',
    view: { status: 'CANCELLED', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    known: { nextBillingAt: T('2024-04-05T10:00:00Z'), paidUntil: T('2024-04-01T10:00:00Z') },
    expect: { state: 'cancelled', paidThrough: T('2024-04-05T10:00:00Z'), accessUntil: T('2024-04-05T10:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2024-04-05T10:00:00Z') }],
  },
  {
    name: 'CANCELLED with the paid period (known paidUntil) later than the next billing seen while ACTIVE → the paid period counts',
    view: { status: 'CANCELLED', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    known: { nextBillingAt: T('2024-03-20T10:00:00Z'), paidUntil: T('2024-04-01T10:00:00Z') },
    expect: { state: 'cancelled', paidThrough: T('2024-04-01T10:00:00Z'), accessUntil: T('2024-04-01T10:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2024-04-01T10:00:00Z') }],
  },
  {
    name: 'CANCELLED: a next_billing_time reported while not ACTIVE is not taken; the known paid period is',
    view: { status: 'CANCELLED', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' }, nextBillingTime: '2024-06-01T10:00:00Z' } },
    known: { paidUntil: T('2024-04-01T10:00:00Z') },
    expect: { state: 'cancelled', nextBillingAt: null, paidThrough: T('2024-04-01T10:00:00Z'), accessUntil: T('2024-04-01T10:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2024-04-01T10:00:00Z') }],
  },
  {
    name: 'CANCELLED with neither next billing nor a payment known → access ends at once',
    view: { status: 'CANCELLED', statusUpdateTime: '2024-03-15T09:00:00Z' },
    expect: { state: 'cancelled', paidThrough: null, accessUntil: T('2024-03-15T09:00:00Z') },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'CANCELLED with nothing known and a status time in the future (clock skew) → ends now',
    view: { status: 'CANCELLED', statusUpdateTime: '2024-03-16T09:00:00Z' },
    expect: { state: 'cancelled', accessUntil: NOW },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'CANCELLED, policy immediate → ends at cancellation despite a future paid-through',
    view: { status: 'CANCELLED', statusUpdateTime: '2024-03-15T09:00:00Z', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    known: { nextBillingAt: T('2024-04-01T10:00:00Z') },
    policy: IMMEDIATE,
    expect: { state: 'cancelled', paidThrough: T('2024-04-01T10:00:00Z'), accessUntil: T('2024-03-15T09:00:00Z') },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'CANCELLED, policy immediate, no status time → ends now',
    view: { status: 'CANCELLED', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    policy: IMMEDIATE,
    expect: { state: 'cancelled', accessUntil: NOW },
    access: [{ at: NOW, has: false }],
  },

  // ── expired ───────────────────────────────────────────────────────────────
  {
    name: 'BILLING.SUBSCRIPTION.EXPIRED with paid-through ahead → access until paid-through',
    view: { status: 'EXPIRED', statusUpdateTime: '2024-03-15T09:00:00Z', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    known: { paidUntil: T('2024-04-01T10:00:00Z') },
    expect: { state: 'expired', paidThrough: T('2024-04-01T10:00:00Z'), accessUntil: T('2024-04-01T10:00:00Z') },
    access: [
      { at: NOW, has: true, until: T('2024-04-01T10:00:00Z') },
      { at: T('2024-04-01T10:00:00Z'), has: false },
    ],
  },
  {
    name: 'EXPIRED with paid-through passed → lapse, no access',
    view: { status: 'EXPIRED', statusUpdateTime: '2024-03-15T09:00:00Z', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-02-01T10:00:00Z' } } },
    known: { paidUntil: T('2024-03-01T10:00:00Z') },
    expect: { state: 'expired', paidThrough: T('2024-03-01T10:00:00Z'), accessUntil: T('2024-03-01T10:00:00Z') },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'EXPIRED with a last payment (even with its amount) but no counted paid period → lapse at once: an uncounted payment extends nothing',
    view: {
      status: 'EXPIRED',
      statusUpdateTime: '2024-03-15T09:00:00Z',
      billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z', amount: { currencyCode: 'USD', value: '0.01' } } },
    },
    expect: { state: 'expired', lastPaymentAt: T('2024-03-01T10:00:00Z'), paidThrough: null, accessUntil: T('2024-03-15T09:00:00Z') },
    access: [{ at: NOW, has: false }],
  },
  {
    name: 'EXPIRED with nothing known → lapse at once',
    view: { status: 'EXPIRED', statusUpdateTime: '2024-03-15T09:00:00Z' },
    expect: { state: 'expired', paidThrough: null, accessUntil: T('2024-03-15T09:00:00Z') },
    access: [{ at: NOW, has: false }],
  },

  // ── refunds and chargebacks ───────────────────────────────────────────────
  {
    name: 'PAYMENT.SALE.REFUNDED (revokedAt set) while PayPal says ACTIVE → revoked, no access',
    view: { status: 'ACTIVE', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' }, nextBillingTime: '2024-04-01T10:00:00Z' } },
    known: { state: 'revoked', revokedAt: T('2024-03-10T00:00:00Z') },
    expect: { state: 'revoked', paypalStatus: 'ACTIVE' },
    access: [
      { at: NOW, has: false },
      { at: T('2024-03-31T00:00:00Z'), has: false },
    ],
  },
  {
    name: 'chargeback (revokedAt set) on a CANCELLED subscription with paid-through ahead → revoked, no access',
    view: { status: 'CANCELLED', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    known: { state: 'cancelled', revokedAt: T('2024-03-12T00:00:00Z') },
    expect: { state: 'revoked' },
    access: [{ at: NOW, has: false }],
  },

  // ── facts PayPal omits are kept ───────────────────────────────────────────
  {
    name: 'a yearly payment’s own period (known paidUntil) is kept, whatever the view shows',
    view: { status: 'CANCELLED', planId: PLAN_IDS.titanMonthly, billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-03-01T10:00:00Z' } } },
    known: { paidUntil: T('2025-03-01T10:00:00Z') },
    expect: { paidThrough: T('2025-03-01T10:00:00Z'), accessUntil: T('2025-03-01T10:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2025-03-01T10:00:00Z') }],
  },
  {
    name: 'last_payment omitted by PayPal → the known last payment is used',
    view: { status: 'CANCELLED', billingInfo: { failedPaymentsCount: 0 } },
    known: { lastPaymentAt: T('2024-03-01T10:00:00Z'), paidUntil: T('2024-04-01T10:00:00Z') },
    expect: { lastPaymentAt: T('2024-03-01T10:00:00Z'), paidThrough: T('2024-04-01T10:00:00Z') },
    access: [{ at: NOW, has: true, until: T('2024-04-01T10:00:00Z') }],
  },
  {
    name: 'an older last_payment from PayPal never replaces a newer known one',
    view: { status: 'CANCELLED', billingInfo: { failedPaymentsCount: 0, lastPayment: { time: '2024-02-01T10:00:00Z' } } },
    known: { lastPaymentAt: T('2024-03-01T10:00:00Z'), paidUntil: T('2024-04-01T10:00:00Z') },
    expect: { lastPaymentAt: T('2024-03-01T10:00:00Z'), paidThrough: T('2024-04-01T10:00:00Z') },
    access: [{ at: NOW, has: true }],
  },
  {
    name: 'ACTIVE without next_billing_time → the known next billing is kept',
    view: { status: 'ACTIVE', billingInfo: { failedPaymentsCount: 0 } },
    known: { nextBillingAt: T('2024-04-01T10:00:00Z') },
    expect: { state: 'active', nextBillingAt: T('2024-04-01T10:00:00Z'), paidThrough: T('2024-04-01T10:00:00Z') },
    access: [{ at: NOW, has: true, until: null }],
  },
  {
    name: 'plan id omitted by PayPal → the known plan id is kept',
    view: { status: 'ACTIVE', billingInfo: { failedPaymentsCount: 0 } },
    known: { planId: PLAN_IDS.legendaryMonthly },
    expect: { planId: PLAN_IDS.legendaryMonthly },
    access: [{ at: NOW, has: true, until: null }],
  },
];

describe('deriveSubscription: one row per PayPal signal', () => {
  it.each(rows)('$name', (row) => {
    const known: KnownFacts = { ...NOTHING_KNOWN, ...row.known };
    const d = deriveSubscription(row.view, known, row.policy ?? GRACE3, row.now ?? NOW);
    expect(d).toMatchObject(row.expect);
    for (const check of row.access) {
      const a = decideAccess({ state: d.state, accessUntil: d.accessUntil, revokedAt: known.revokedAt }, check.at);
      expect({ at: new Date(check.at).toISOString(), has: a.has }).toEqual({ at: new Date(check.at).toISOString(), has: check.has });
      if (a.has && check.until !== undefined) expect(a.until).toBe(check.until);
    }
  });

  it('keeps the grace counted from the failure when PayPal is read again days later', () => {
    const view: PaypalSubscriptionView = {
      status: 'ACTIVE',
      billingInfo: { failedPaymentsCount: 1, lastFailedPayment: { time: '2024-03-14T10:00:00Z' }, lastPayment: { time: '2024-02-14T10:00:00Z' }, nextBillingTime: '2024-03-19T10:00:00Z' },
    };
    const first = deriveSubscription(view, NOTHING_KNOWN, GRACE3, NOW);
    const later = deriveSubscription(view, NOTHING_KNOWN, GRACE3, NOW + 5 * DAY_MS);
    expect(later.graceUntil).toBe(first.graceUntil);
    expect(decideAccess({ ...later, revokedAt: null }, NOW + 5 * DAY_MS).has).toBe(false);
  });
});

describe('computePaidThrough', () => {
  // Interval arithmetic (Jan 31 + 1 month…) now lives where a payment is counted: test/unit/paid-plan.test.ts.
  const rows: { name: string; nextBillingAt?: string; paidUntil?: string; expected: string | null }[] = [
    { name: 'next billing later than the paid period → next billing', nextBillingAt: '2024-04-20T00:00:00Z', paidUntil: '2024-04-10T00:00:00Z', expected: '2024-04-20T00:00:00Z' },
    { name: 'paid period later than next billing → the paid period', nextBillingAt: '2024-04-01T00:00:00Z', paidUntil: '2024-04-10T00:00:00Z', expected: '2024-04-10T00:00:00Z' },
    { name: 'both equal → that time', nextBillingAt: '2024-04-10T00:00:00Z', paidUntil: '2024-04-10T00:00:00Z', expected: '2024-04-10T00:00:00Z' },
    { name: 'only next billing known', nextBillingAt: '2024-04-01T00:00:00Z', expected: '2024-04-01T00:00:00Z' },
    { name: 'only the paid period known', paidUntil: '2025-03-01T00:00:00Z', expected: '2025-03-01T00:00:00Z' },
    { name: 'nothing known → unknown', expected: null },
  ];
  it.each(rows)('$name', (row) => {
    const got = computePaidThrough({
      nextBillingAt: row.nextBillingAt === undefined ? null : T(row.nextBillingAt),
      paidUntil: row.paidUntil === undefined ? null : T(row.paidUntil),
    });
    expect(got === null ? null : new Date(got).toISOString()).toBe(row.expected === null ? null : new Date(T(row.expected)).toISOString());
  });
});

describe('decideAccess', () => {
  const rows: { name: string; state: string; accessUntil: number | null; revokedAt: number | null; expected: ReturnType<typeof decideAccess> }[] = [
    { name: 'active → open-ended', state: 'active', accessUntil: null, revokedAt: null, expected: { has: true, until: null } },
    { name: 'active but revoked → none', state: 'active', accessUntil: null, revokedAt: NOW - DAY_MS, expected: { has: false } },
    { name: 'past_due before its end → until the end', state: 'past_due', accessUntil: NOW + 1, revokedAt: null, expected: { has: true, until: NOW + 1 } },
    { name: 'cancelled at its end → none', state: 'cancelled', accessUntil: NOW, revokedAt: null, expected: { has: false } },
    { name: 'suspended without an end → none', state: 'suspended', accessUntil: null, revokedAt: null, expected: { has: false } },
    { name: 'expired before its end → until the end', state: 'expired', accessUntil: NOW + DAY_MS, revokedAt: null, expected: { has: true, until: NOW + DAY_MS } },
    { name: 'pending with a future end → none', state: 'pending', accessUntil: NOW + DAY_MS, revokedAt: null, expected: { has: false } },
    { name: 'an unknown state → none', state: 'mystery', accessUntil: NOW + DAY_MS, revokedAt: null, expected: { has: false } },
  ];
  it.each(rows)('$name', (row) => {
    expect(decideAccess(row, NOW)).toEqual(row.expected);
  });
});

// ── properties ──────────────────────────────────────────────────────────────

const MIN_T = T('2020-01-01T00:00:00Z');
const MAX_T = T('2030-12-31T00:00:00Z');
const timeArb = fc.integer({ min: MIN_T, max: MAX_T });
const isoArb = timeArb.map((t) => new Date(t).toISOString());
const opt = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: undefined });
const nul = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: null });
const STATUSES = ['APPROVAL_PENDING', 'APPROVED', 'ACTIVE', 'SUSPENDED', 'CANCELLED', 'EXPIRED', 'ON_HOLD'] as const;
const GRACE_STATES: readonly string[] = ['past_due', 'cancelled', 'suspended', 'expired'];

const viewArb: fc.Arbitrary<PaypalSubscriptionView> = fc.record({
  status: opt(fc.constantFrom(...STATUSES)),
  planId: opt(fc.constantFrom(PLAN_IDS.eliteMonthly, PLAN_IDS.titanYearly)),
  statusUpdateTime: opt(isoArb),
  updateTime: opt(isoArb),
  billingInfo: opt(
    fc.record({
      nextBillingTime: opt(isoArb),
      lastPayment: opt(fc.record({ time: opt(isoArb), amount: opt(fc.record({ currencyCode: opt(fc.constantFrom('USD', 'EUR')), value: opt(fc.constantFrom('0.01', '4.99', '49.99', 'junk')) })) })),
      failedPaymentsCount: fc.integer({ min: 0, max: 3 }),
      lastFailedPayment: opt(fc.record({ time: isoArb })),
    }),
  ),
});

const knownArb: fc.Arbitrary<KnownFacts> = fc.record({
  state: nul(fc.constantFrom(...SUBSCRIPTION_STATES)),
  planId: nul(fc.constant(PLAN_IDS.legendaryMonthly)),
  nextBillingAt: nul(timeArb),
  lastPaymentAt: nul(timeArb),
  paidUntil: nul(timeArb),
  lastFailedPaymentAt: nul(timeArb),
  revokedAt: nul(timeArb),
});

const policyArb: fc.Arbitrary<Policy> = fc.record({
  grace_days: fc.integer({ min: 0, max: 60 }),
  on_cancel: fc.constantFrom('period_end' as const, 'immediate' as const),
  on_manual_role_edit: fc.constantFrom('revert' as const, 'report' as const),
  on_partial_refund: fc.constantFrom('keep' as const, 'revoke' as const),
});

describe('properties', () => {
  it('decideAccess never grants for pending, revoked or abandoned, nor with revokedAt set', () => {
    fc.assert(
      fc.property(fc.constantFrom('pending', 'revoked', 'abandoned'), nul(timeArb), nul(timeArb), timeArb, (state, accessUntil, revokedAt, now) => {
        expect(decideAccess({ state, accessUntil, revokedAt }, now)).toEqual({ has: false });
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...SUBSCRIPTION_STATES), nul(timeArb), timeArb, timeArb, (state, accessUntil, revokedAt, now) => {
        expect(decideAccess({ state, accessUntil, revokedAt }, now)).toEqual({ has: false });
      }),
    );
  });

  it('for every derived state but active, access ends exactly at accessUntil', () => {
    fc.assert(
      fc.property(viewArb, knownArb, policyArb, timeArb, (view, known, policy, now) => {
        const d = deriveSubscription(view, known, policy, now);
        fc.pre(d.state !== 'active');
        const s = { state: d.state, accessUntil: d.accessUntil, revokedAt: null };
        if (GRACE_STATES.includes(d.state)) {
          expect(d.accessUntil).not.toBeNull();
          const end = d.accessUntil as number;
          expect(decideAccess(s, end - 1)).toEqual({ has: true, until: end });
          expect(decideAccess(s, end)).toEqual({ has: false });
          expect(decideAccess(s, end + 1)).toEqual({ has: false });
        } else {
          expect(['pending', 'abandoned', 'revoked']).toContain(d.state);
          expect(decideAccess(s, now)).toEqual({ has: false });
          if (d.accessUntil !== null) expect(decideAccess(s, d.accessUntil - 1)).toEqual({ has: false });
        }
      }),
    );
  });

  it('a subscription with revokedAt never yields access, whatever PayPal says', () => {
    fc.assert(
      fc.property(viewArb, knownArb, timeArb, policyArb, timeArb, (view, known, revokedAt, policy, now) => {
        const d = deriveSubscription(view, { ...known, revokedAt }, policy, now);
        expect(d.state).toBe('revoked');
        for (const at of [now, MIN_T, MAX_T]) {
          expect(decideAccess({ state: d.state, accessUntil: d.accessUntil, revokedAt }, at).has).toBe(false);
          expect(decideAccess({ state: d.state, accessUntil: d.accessUntil, revokedAt: null }, at).has).toBe(false);
        }
      }),
    );
  });

  it('paid-through is the later of the known paid period and next billing: a last_payment alone never extends it', () => {
    fc.assert(
      fc.property(viewArb, knownArb, policyArb, timeArb, (view, known, policy, now) => {
        const d = deriveSubscription(view, known, policy, now);
        expect(d.paidThrough).toBe(computePaidThrough({ nextBillingAt: d.nextBillingAt, paidUntil: known.paidUntil }));
        if (known.paidUntil !== null) expect(d.paidThrough).not.toBeNull();
        if (known.paidUntil !== null) expect(d.paidThrough as number).toBeGreaterThanOrEqual(known.paidUntil);
        if (known.paidUntil === null && known.nextBillingAt === null && view.status !== 'ACTIVE') expect(d.paidThrough).toBeNull();
      }),
    );
  });

  it('only PayPal ACTIVE, SUSPENDED, CANCELLED or EXPIRED can ever give access; only ACTIVE is open-ended', () => {
    fc.assert(
      fc.property(viewArb, knownArb, policyArb, timeArb, (view, known, policy, now) => {
        const d = deriveSubscription(view, known, policy, now);
        const s = { state: d.state, accessUntil: d.accessUntil, revokedAt: known.revokedAt };
        if (!['ACTIVE', 'SUSPENDED', 'CANCELLED', 'EXPIRED'].includes(d.paypalStatus)) {
          for (const at of [now, MIN_T, MAX_T]) expect(decideAccess(s, at).has).toBe(false);
        }
        if (d.state === 'active') expect(d.paypalStatus).toBe('ACTIVE');
        if (d.accessUntil === null) expect(GRACE_STATES).not.toContain(d.state);
      }),
    );
  });
});

describe('past-due grace does not move', () => {
  it('a read without last_failed_payment keeps the grace counted from the known failure', () => {
    const failedAt = Date.parse('2026-03-01T00:00:00Z');
    const view = {
      status: 'ACTIVE',
      planId: PLAN_IDS.legendaryMonthly,
      billingInfo: { failedPaymentsCount: 1, lastPayment: { time: '2026-02-01T00:00:00Z' } },
    };
    const known: KnownFacts = { ...NOTHING_KNOWN, lastFailedPaymentAt: failedAt, lastPaymentAt: Date.parse('2026-02-01T00:00:00Z') };
    const early = deriveSubscription(view, known, GRACE3, failedAt + DAY_MS);
    const late = deriveSubscription(view, known, GRACE3, failedAt + 2 * DAY_MS);
    expect(early.graceUntil).toBe(failedAt + 3 * DAY_MS);
    expect(late.graceUntil).toBe(early.graceUntil);
  });
});
