import { describe, expect, it } from 'vitest';
import type { PaymentEvidence, PlanPrice } from '../../src/core/paid-plan.ts';
import type { PaypalSubscriptionView } from '../../src/core/subscription-state.ts';
import {
  carryPlanColumns,
  isStaleRead,
  keepStoredStatus,
  linkMember,
  readLastPayment,
  replacedToCancel,
  settleReadPayments,
  toPaidFacts,
  toUpgradeTerms,
  type PlanColumns,
  type StoredSubscription,
} from '../../src/core/subscription-update.ts';
import { addInterval, DAY_MS } from '../../src/core/time.ts';
import { PLAN_IDS, TIER_KEYS, UNKNOWN_PLAN_ID, testCatalog } from '../helpers/tiers.ts';

/** How a PayPal read updates the stored subscription (linking, staleness, settlement inputs, carried keys). */

const catalog = testCatalog();
const NOW = Date.parse('2024-03-15T12:00:00Z');
const MEMBER = '300000000000000001';
const OTHER = '300000000000000002';
const iso = (t: number) => new Date(t).toISOString();

const ELITE: PlanPrice = { planId: PLAN_IDS.eliteMonthly, value: '4.99', currency: 'USD', intervalUnit: 'MONTH', intervalCount: 1 };
const TITAN: PlanPrice = { planId: PLAN_IDS.titanMonthly, value: '19.99', currency: 'USD', intervalUnit: 'MONTH', intervalCount: 1 };
const TITAN_YEAR: PlanPrice = { planId: PLAN_IDS.titanYearly, value: '199.99', currency: 'USD', intervalUnit: 'YEAR', intervalCount: 1 };

function stored(over: Partial<StoredSubscription> = {}): StoredSubscription {
  return {
    memberId: MEMBER,
    customId: MEMBER,
    state: 'active',
    planId: PLAN_IDS.eliteMonthly,
    tierKey: TIER_KEYS.elite,
    paypalStatus: 'ACTIVE',
    paypalUpdatedAt: NOW - DAY_MS,
    nextBillingAt: NOW + 20 * DAY_MS,
    lastPaymentAt: NOW - 10 * DAY_MS,
    paidPlanId: ELITE.planId,
    paidTierKey: TIER_KEYS.elite,
    paidPrice: ELITE.value,
    paidCurrency: ELITE.currency,
    intervalUnit: ELITE.intervalUnit,
    intervalCount: ELITE.intervalCount,
    paidUntil: addInterval(NOW - 10 * DAY_MS, 'MONTH', 1),
    failedPaymentsCount: 0,
    lastFailedPaymentAt: null,
    revokedAt: null,
    upgradeFee: null,
    upgradeCurrency: null,
    upgradeUntil: null,
    upgradeFrom: null,
    ...over,
  };
}

describe('linkMember', () => {
  it.each([
    { name: 'a new subscription whose custom_id is a Discord id', custom: MEMBER, row: undefined, want: { customId: MEMBER, memberId: MEMBER } },
    { name: 'a custom_id that is not a Discord id links nobody', custom: 'alice', row: undefined, want: { customId: 'alice', memberId: null } },
    { name: 'a 16-digit custom_id is too short for a Discord id', custom: '1234567890123456', row: undefined, want: { customId: '1234567890123456', memberId: null } },
    { name: 'no custom_id at all', custom: undefined, row: undefined, want: { customId: null, memberId: null } },
    { name: 'the member already linked wins over another custom_id', custom: OTHER, row: { memberId: MEMBER, customId: MEMBER }, want: { customId: OTHER, memberId: MEMBER } },
    { name: 'a read without custom_id keeps the stored one', custom: undefined, row: { memberId: null, customId: MEMBER }, want: { customId: MEMBER, memberId: MEMBER } },
    { name: 'a stored row linked to nobody links by the custom_id read now', custom: OTHER, row: { memberId: null, customId: 'alice' }, want: { customId: OTHER, memberId: OTHER } },
  ])('$name', ({ custom, row, want }) => {
    expect(linkMember(custom, row)).toEqual(want);
  });
});

describe('isStaleRead', () => {
  const at = NOW - DAY_MS;
  it.each([
    { name: 'nothing stored', view: { updateTime: iso(at - 1) }, row: undefined, want: false },
    { name: 'stored without a PayPal time', view: { updateTime: iso(at - 1) }, row: { paypalUpdatedAt: null }, want: false },
    { name: 'a read without times', view: {}, row: { paypalUpdatedAt: at }, want: false },
    { name: 'older than the stored copy', view: { updateTime: iso(at - 1) }, row: { paypalUpdatedAt: at }, want: true },
    { name: 'as old as the stored copy', view: { updateTime: iso(at) }, row: { paypalUpdatedAt: at }, want: false },
    { name: 'a newer status_update_time makes it current', view: { updateTime: iso(at - 1), statusUpdateTime: iso(at + 1) }, row: { paypalUpdatedAt: at }, want: false },
  ])('$name → $want', ({ view, row, want }) => {
    expect(isStaleRead(view, row)).toBe(want);
  });
});

describe('settlement inputs from the stored row', () => {
  it('a row counted before prices were stored names its plan but is no candidate', () => {
    expect(toPaidFacts(stored({ paidPrice: null })).plan).toBeNull();
    expect(toPaidFacts(stored()).plan).toEqual(ELITE);
    expect(toPaidFacts(stored({ intervalCount: null })).plan).toEqual(ELITE);
    expect(toPaidFacts(undefined)).toEqual({ plan: null, until: null, lastPaymentAt: null });
  });

  it.each([
    { name: 'no upgrade', row: stored(), want: null },
    { name: 'an instant upgrade', row: stored({ upgradeFee: '7.50', upgradeCurrency: 'USD', upgradeUntil: NOW + DAY_MS }), want: { fee: '7.50', currency: 'USD', until: NOW + DAY_MS } },
    { name: 'a fee without its end', row: stored({ upgradeFee: '7.50', upgradeCurrency: 'USD' }), want: null },
  ])('upgrade terms: $name', ({ row, want }) => {
    expect(toUpgradeTerms(row)).toEqual(want);
  });

  it.each<{ name: string; view: PaypalSubscriptionView; want: PaymentEvidence | null }>([
    { name: 'no billing_info', view: {}, want: null },
    { name: 'a payment', view: { billingInfo: { failedPaymentsCount: 0, lastPayment: { time: iso(NOW - DAY_MS), amount: { value: '4.99', currencyCode: 'USD' } } } }, want: { value: '4.99', currency: 'USD', at: NOW - DAY_MS } },
    { name: 'a payment dated in the future is capped at now', view: { billingInfo: { failedPaymentsCount: 0, lastPayment: { time: iso(NOW + DAY_MS), amount: { value: '4.99', currencyCode: 'USD' } } } }, want: { value: '4.99', currency: 'USD', at: NOW } },
    { name: 'a payment without amount', view: { billingInfo: { failedPaymentsCount: 0, lastPayment: { time: iso(NOW - DAY_MS) } } }, want: null },
  ])('last payment: $name', ({ view, want }) => {
    expect(readLastPayment(view, NOW)).toEqual(want);
  });
});

describe('settleReadPayments', () => {
  const paidAt = NOW - DAY_MS;
  const billed = (value: string): PaypalSubscriptionView => ({ billingInfo: { failedPaymentsCount: 0, lastPayment: { time: iso(paidAt), amount: { value, currencyCode: 'USD' } } } });
  const settle = (o: { row?: StoredSubscription; view: PaypalSubscriptionView; planPrice: PlanPrice | null; confirmed?: PaymentEvidence | null; stale?: boolean }) =>
    settleReadPayments({ stored: o.row, view: o.view, planPrice: o.planPrice, confirmed: o.confirmed ?? null, stale: o.stale ?? false, catalog, now: NOW });

  it('counts billing_info.last_payment for the plan shown when it reaches its price', () => {
    const s = settle({ view: billed('19.99'), planPrice: TITAN });
    expect(s.paid).toEqual({ plan: TITAN, until: addInterval(paidAt, 'MONTH', 1), lastPaymentAt: paidAt });
  });

  it('a stale read’s plan is no candidate: only the plan paid before counts', () => {
    const row = stored({ lastPaymentAt: NOW - 40 * DAY_MS, paidUntil: NOW - 10 * DAY_MS });
    expect(settle({ row, view: billed('199.99'), planPrice: TITAN_YEAR, stale: true }).paid.plan).toEqual(ELITE);
    expect(settle({ row, view: billed('199.99'), planPrice: TITAN_YEAR }).paid.plan).toEqual(TITAN_YEAR);
  });

  it('the confirmed payment and the same payment in billing_info count once, as the confirmed one', () => {
    const confirmed = { value: '19.99', currency: 'USD', at: paidAt };
    const s = settle({ view: billed('19.99'), planPrice: TITAN, confirmed });
    expect(s.counted).toHaveLength(1);
    expect(s.counted[0]?.payment).toBe(confirmed);
  });

  it('a payment below every candidate price is uncounted', () => {
    const s = settle({ view: billed('1.00'), planPrice: TITAN });
    expect(s.uncounted).toEqual([{ value: '1.00', currency: 'USD', at: paidAt }]);
    expect(s.paid.plan).toBeNull();
  });
});

describe('keepStoredStatus', () => {
  it('replaces status, plan and billing times by the stored ones, keeping the read’s payment', () => {
    const lastPayment = { time: iso(NOW - DAY_MS), amount: { value: '4.99', currencyCode: 'USD' } };
    const view: PaypalSubscriptionView = { id: 'I-1', status: 'CANCELLED', planId: PLAN_IDS.titanMonthly, updateTime: iso(NOW - 2 * DAY_MS), billingInfo: { failedPaymentsCount: 3, lastPayment } };
    const row = stored({ lastFailedPaymentAt: NOW - 5 * DAY_MS });
    expect(keepStoredStatus(row, view)).toEqual({
      id: 'I-1',
      status: 'ACTIVE',
      planId: PLAN_IDS.eliteMonthly,
      statusUpdateTime: iso(NOW - DAY_MS),
      updateTime: iso(NOW - DAY_MS),
      billingInfo: { failedPaymentsCount: 0, nextBillingTime: iso(NOW + 20 * DAY_MS), lastFailedPayment: { time: iso(NOW - 5 * DAY_MS) }, lastPayment },
    });
  });
});

describe('carryPlanColumns', () => {
  const cols = (over: Partial<PlanColumns>): PlanColumns => ({
    tierKey: TIER_KEYS.elite,
    paidPlanId: null,
    paidTierKey: null,
    paidPrice: null,
    paidCurrency: null,
    intervalUnit: null,
    intervalCount: null,
    ...over,
  });
  const paid = (p: PlanPrice, key: string) => ({ paidPlanId: p.planId, paidTierKey: key, paidPrice: p.value, paidCurrency: p.currency, intervalUnit: p.intervalUnit, intervalCount: p.intervalCount });

  const eliteRow = { tierKey: TIER_KEYS.elite, paidPlanId: ELITE.planId, paidTierKey: TIER_KEYS.elite };
  /** A plan some tier sold when it was paid for, since removed from the tiers file. */
  const REMOVED: PlanPrice = { ...ELITE, planId: UNKNOWN_PLAN_ID };

  it.each<{ name: string; planId: string; paidPlan: PlanPrice | null; row: Pick<StoredSubscription, 'tierKey' | 'paidPlanId' | 'paidTierKey'> | undefined; want: PlanColumns }>([
    { name: 'nothing paid yet', planId: PLAN_IDS.eliteMonthly, paidPlan: null, row: undefined, want: cols({}) },
    { name: 'a first payment', planId: PLAN_IDS.eliteMonthly, paidPlan: ELITE, row: undefined, want: cols(paid(ELITE, TIER_KEYS.elite)) },
    { name: 'a plan change not yet paid keeps the paid tier, shows the new one', planId: PLAN_IDS.titanMonthly, paidPlan: ELITE, row: eliteRow, want: cols({ tierKey: TIER_KEYS.titan, ...paid(ELITE, TIER_KEYS.elite) }) },
    {
      name: 'a plan since removed from the tiers file keeps the keys it was bought as',
      planId: UNKNOWN_PLAN_ID,
      paidPlan: REMOVED,
      row: { tierKey: TIER_KEYS.legendary, paidPlanId: UNKNOWN_PLAN_ID, paidTierKey: TIER_KEYS.legendary },
      want: cols({ tierKey: TIER_KEYS.legendary, ...paid(REMOVED, TIER_KEYS.legendary) }),
    },
    { name: 'a newly counted plan takes its key from the tiers file, not the one stored', planId: PLAN_IDS.titanMonthly, paidPlan: TITAN, row: eliteRow, want: cols({ tierKey: TIER_KEYS.titan, ...paid(TITAN, TIER_KEYS.titan) }) },
    { name: 'a newly counted plan no tier sells has no paid tier', planId: UNKNOWN_PLAN_ID, paidPlan: REMOVED, row: eliteRow, want: cols({ ...paid(REMOVED, TIER_KEYS.elite), paidTierKey: null }) },
    { name: 'a row counted before prices were stored keeps its paid plan and key', planId: PLAN_IDS.eliteMonthly, paidPlan: null, row: eliteRow, want: cols({ paidPlanId: ELITE.planId, paidTierKey: TIER_KEYS.elite }) },
  ])('$name', ({ planId, paidPlan, row, want }) => {
    expect(carryPlanColumns(planId, paidPlan, row, catalog)).toEqual(want);
  });
});

describe('replacedToCancel', () => {
  it.each([
    { name: 'not an upgrade', row: { upgradeFrom: null, paidPlanId: null }, paidPlan: TITAN, want: null },
    { name: 'an upgrade whose fee is not paid yet', row: { upgradeFrom: 'I-OLD', paidPlanId: null }, paidPlan: null, want: null },
    { name: 'an upgrade whose fee just counted', row: { upgradeFrom: 'I-OLD', paidPlanId: null }, paidPlan: TITAN, want: 'I-OLD' },
    { name: 'an upgrade paid before (cancel already queued)', row: { upgradeFrom: 'I-OLD', paidPlanId: TITAN.planId }, paidPlan: TITAN, want: null },
    { name: 'nothing stored', row: undefined, paidPlan: TITAN, want: null },
  ])('$name', ({ row, paidPlan, want }) => {
    expect(replacedToCancel(row, paidPlan)).toBe(want);
  });
});
