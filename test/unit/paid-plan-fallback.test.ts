import { describe, expect, it } from 'vitest';
import { attributePayment, settlePayments, NOTHING_PAID, type PlanPrice } from '../../src/core/paid-plan.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { FIXTURE_PLANS, PLAN_IDS, testCatalog } from '../helpers/tiers.ts';

/**
 * A plan revised up at PayPal before Concierge saw the first payment: the read shows only the new plan. The
 * payment counts for the plan whose catalogue price it reached, never for a tier above the one shown.
 */

const catalog = testCatalog();
const rankOf = (planId: string) => catalog.byPlan(planId)?.rank ?? -Infinity;
const NOW = Date.parse('2024-03-15T12:00:00Z');
const price = (k: keyof typeof PLAN_IDS): PlanPrice => {
  const p = FIXTURE_PLANS.find((f) => f.id === PLAN_IDS[k]);
  if (p === undefined) throw new Error(k);
  return { planId: p.id, value: p.price, currency: p.currency, intervalUnit: p.intervalUnit, intervalCount: p.intervalCount };
};
const ALL = (Object.keys(PLAN_IDS) as (keyof typeof PLAN_IDS)[]).map(price);
const attribute = (value: string, current: keyof typeof PLAN_IDS, o: { first?: boolean; currency?: string } = {}) =>
  attributePayment({ payment: { value, currency: o.currency ?? 'USD', at: NOW }, current: price(current), previous: null, upgrade: null, firstPayment: o.first ?? true, fallbacks: ALL, rankOf })?.plan.planId ?? null;

describe('a first payment below the price of the plan shown now', () => {
  it('Elite’s price while Warlord is shown buys Elite, for one month from the payment', () => {
    const a = attributePayment({ payment: { value: '4.99', currency: 'USD', at: NOW }, current: price('warlordMonthly'), previous: null, upgrade: null, firstPayment: true, fallbacks: ALL, rankOf });
    expect(a?.plan.planId).toBe(PLAN_IDS.eliteMonthly);
    expect(a?.coversUntil).toBe(Date.parse('2024-04-15T12:00:00Z'));
  });

  it('Titan’s monthly price while Warlord is shown buys Titan monthly, not the dearer Titan year or Warlord', () => {
    expect(attribute('19.99', 'warlordMonthly')).toBe(PLAN_IDS.titanMonthly);
  });

  it('a payment reaching a plan ranked above the one shown never buys it: the shown plan’s tier is the ceiling', () => {
    // Revised down to Legendary before the payment was seen; Titan's yearly price paid still buys Legendary (the shown plan, reached).
    expect(attribute('199.99', 'legendaryMonthly')).toBe(PLAN_IDS.legendaryMonthly);
  });

  it('Titan’s yearly price paid before a revision to Warlord monthly buys Titan for the year, not Warlord for a month', () => {
    // Warlord's monthly price is reached too, but the dearest price reached within the shown tier is the plan billed.
    const a = attributePayment({ payment: { value: '199.99', currency: 'USD', at: NOW }, current: price('warlordMonthly'), previous: null, upgrade: null, firstPayment: true, fallbacks: ALL, rankOf });
    expect(a?.plan.planId).toBe(PLAN_IDS.titanYearly);
    expect(a?.coversUntil).toBe(Date.parse('2025-03-15T12:00:00Z'));
  });

  it('the shown plan’s own price buys the shown plan, whatever other plans cost', () => {
    expect(attribute('49.99', 'warlordMonthly')).toBe(PLAN_IDS.warlordMonthly);
    expect(attribute('199.99', 'titanYearly')).toBe(PLAN_IDS.titanYearly);
  });

  it('revised down before the payment was seen: the plan Concierge recorded lifts the ceiling to it, an amount alone never does', () => {
    const first = (value: string, recordedPlanId: string | null) =>
      attributePayment({ payment: { value, currency: 'USD', at: NOW }, current: price('eliteMonthly'), previous: null, upgrade: null, firstPayment: true, fallbacks: ALL, recordedPlanId, rankOf })?.plan.planId ?? null;
    expect(first('49.99', PLAN_IDS.warlordMonthly)).toBe(PLAN_IDS.warlordMonthly);
    expect(first('49.99', null)).toBe(PLAN_IDS.eliteMonthly);
    // Recorded at Warlord but paid at Elite's price (revised before approval): Elite.
    expect(first('4.99', PLAN_IDS.warlordMonthly)).toBe(PLAN_IDS.eliteMonthly);
  });

  it('a payment below every price, or in another currency, buys nothing', () => {
    expect(attribute('1.00', 'warlordMonthly')).toBeNull();
    expect(attribute('4.99', 'warlordMonthly', { currency: 'EUR' })).toBeNull();
  });

  it('only a first payment falls back: once a plan was paid, a payment short of both prices counts for nothing', () => {
    expect(attribute('4.99', 'warlordMonthly', { first: false })).toBeNull();
  });

  it('settlePayments counts the first payment for Elite, and a later one at Warlord’s price for Warlord', () => {
    const r = settlePayments({ known: NOTHING_PAID, payments: [{ value: '4.99', currency: 'USD', at: NOW }, { value: '49.99', currency: 'USD', at: NOW + 30 * DAY_MS }], current: price('warlordMonthly'), upgrade: null, fallbacks: ALL, rankOf });
    expect(r.counted.map((c) => c.attribution.plan.planId)).toEqual([PLAN_IDS.eliteMonthly, PLAN_IDS.warlordMonthly]);
    expect(r.uncounted).toEqual([]);
  });
});
