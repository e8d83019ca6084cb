import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entitlement, type SubscriptionFacts } from '../../src/core/entitlement.ts';
import {
  attributePayment,
  describePrice,
  fromCents,
  MIN_UPGRADE_PERIOD_MS,
  NOTHING_PAID,
  planUpgrade,
  prorateUpgrade,
  settlePayments,
  toCents,
  type PaidFacts,
  type PaymentEvidence,
  type PlanPrice,
  type UpgradeTerms,
} from '../../src/core/paid-plan.ts';
import { SUBSCRIPTION_STATES } from '../../src/core/subscription-state.ts';
import { addInterval, DAY_MS } from '../../src/core/time.ts';
import { FIXTURE_PLANS, PLAN_IDS, testCatalog } from '../helpers/tiers.ts';

/** Access follows money (SPEC "Access follows money"): which plan a payment paid for, and until when. */

const catalog = testCatalog();
const NOW = Date.parse('2024-03-15T12:00:00Z');
const days = (n: number) => NOW + n * DAY_MS;
const T = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test time ${iso}`);
  return t;
};
const MONTH_AFTER_NOW = T('2024-04-15T12:00:00Z');
const YEAR_AFTER_NOW = T('2025-03-15T12:00:00Z');

type PlanKey = keyof typeof PLAN_IDS;
const PLAN_KEYS = Object.keys(PLAN_IDS) as PlanKey[];
/** The fixture's catalogue prices: elite 4.99/month, legendary 9.99/month, titan 19.99/month or 199.99/year, warlord 49.99/month (USD). */
const PRICE = Object.fromEntries(
  PLAN_KEYS.map((k) => {
    const spec = FIXTURE_PLANS.find((p) => p.id === PLAN_IDS[k]);
    if (spec === undefined) throw new Error(k);
    return [k, { planId: spec.id, value: spec.price, currency: spec.currency, intervalUnit: spec.intervalUnit, intervalCount: spec.intervalCount } satisfies PlanPrice];
  }),
) as Record<PlanKey, PlanPrice>;
const keyOf = (planId: string): PlanKey => {
  const k = PLAN_KEYS.find((key) => PLAN_IDS[key] === planId);
  if (k === undefined) throw new Error(planId);
  return k;
};
const rankOf = (planId: string) => catalog.byPlan(planId)?.rank ?? -Infinity;
const pay = (value: string, at = NOW, currency = 'USD'): PaymentEvidence => ({ value, currency, at });

describe('attributePayment', () => {
  interface Row {
    name: string;
    payment: PaymentEvidence;
    current: PlanKey | null;
    previous: PlanKey | null;
    upgrade?: UpgradeTerms;
    firstPayment?: boolean;
    /** The plan paid for and the end of its period, or null: uncounted, extends nothing. */
    expected: { plan: PlanKey; coversUntil: number } | null;
  }
  const FEE: UpgradeTerms = { fee: '22.50', currency: 'USD', until: days(15) };
  const rows: Row[] = [
    { name: 'a payment at the plan’s price → that plan, one interval from the payment', payment: pay('4.99'), current: 'eliteMonthly', previous: null, expected: { plan: 'eliteMonthly', coversUntil: MONTH_AFTER_NOW } },
    { name: 'a payment above the price still buys that plan, never more than one interval', payment: pay('7.00'), current: 'eliteMonthly', previous: null, expected: { plan: 'eliteMonthly', coversUntil: MONTH_AFTER_NOW } },
    // upgrade by revise: PayPal shows warlord at once but charges its price only from the next cycle
    {
      name: 'upgrade by revise: elite’s price paid while warlord is shown → elite, never warlord',
      payment: pay('4.99'),
      current: 'warlordMonthly',
      previous: 'eliteMonthly',
      expected: { plan: 'eliteMonthly', coversUntil: MONTH_AFTER_NOW },
    },
    {
      name: 'a payment at warlord’s price after the revise → warlord, from that payment',
      payment: pay('49.99'),
      current: 'warlordMonthly',
      previous: 'eliteMonthly',
      expected: { plan: 'warlordMonthly', coversUntil: MONTH_AFTER_NOW },
    },
    {
      name: 'downgrade: a payment still at warlord’s price reaches both prices → the higher-ranked plan (warlord)',
      payment: pay('49.99'),
      current: 'eliteMonthly',
      previous: 'warlordMonthly',
      expected: { plan: 'warlordMonthly', coversUntil: MONTH_AFTER_NOW },
    },
    { name: 'downgrade: a payment at elite’s price after the revise → elite', payment: pay('4.99'), current: 'eliteMonthly', previous: 'warlordMonthly', expected: { plan: 'eliteMonthly', coversUntil: MONTH_AFTER_NOW } },
    {
      name: 'an amount between two prices → the plan whose price it reaches (legendary), not the dearer one shown',
      payment: pay('19.98'),
      current: 'titanMonthly',
      previous: 'legendaryMonthly',
      expected: { plan: 'legendaryMonthly', coversUntil: MONTH_AFTER_NOW },
    },
    // monthly → yearly
    {
      name: 'monthly→yearly: a monthly payment covers one month even when the plan shown is yearly',
      payment: pay('19.99'),
      current: 'titanYearly',
      previous: 'titanMonthly',
      expected: { plan: 'titanMonthly', coversUntil: MONTH_AFTER_NOW },
    },
    { name: 'monthly→yearly: a payment at the yearly price → yearly, one year', payment: pay('199.99'), current: 'titanYearly', previous: 'titanMonthly', expected: { plan: 'titanYearly', coversUntil: YEAR_AFTER_NOW } },
    { name: 'a monthly price never buys a year, even as the first payment', payment: pay('19.99'), current: 'titanYearly', previous: null, expected: null },
    // uncounted
    { name: 'a payment below every candidate price → uncounted', payment: pay('4.98'), current: 'warlordMonthly', previous: 'eliteMonthly', expected: null },
    { name: 'a payment in another currency → uncounted, whatever the amount', payment: pay('499.99', NOW, 'EUR'), current: 'warlordMonthly', previous: 'eliteMonthly', expected: null },
    { name: 'a malformed amount → uncounted', payment: pay('49.99 USD'), current: 'warlordMonthly', previous: null, expected: null },
    { name: 'a negative amount → uncounted', payment: pay('-49.99'), current: 'warlordMonthly', previous: null, expected: null },
    { name: 'no candidate plan at all → uncounted', payment: pay('49.99'), current: null, previous: null, expected: null },
    { name: 'only the previous plan known → judged by its price', payment: pay('9.99'), current: null, previous: 'legendaryMonthly', expected: { plan: 'legendaryMonthly', coversUntil: MONTH_AFTER_NOW } },
    // instant upgrade: the setup fee pays for the higher plan until `until`
    { name: 'upgrade fee: first payment at the fee before `until` → the current plan until `until`', payment: pay('22.50'), current: 'warlordMonthly', previous: null, upgrade: FEE, firstPayment: true, expected: { plan: 'warlordMonthly', coversUntil: days(15) } },
    { name: 'upgrade fee: a first payment above the fee counts the same way', payment: pay('30.00', days(1)), current: 'warlordMonthly', previous: null, upgrade: FEE, firstPayment: true, expected: { plan: 'warlordMonthly', coversUntil: days(15) } },
    { name: 'upgrade fee: a first payment below the fee → judged by price (uncounted)', payment: pay('22.49'), current: 'warlordMonthly', previous: null, upgrade: FEE, firstPayment: true, expected: null },
    { name: 'upgrade fee in another currency → not an upgrade (uncounted)', payment: pay('22.50', NOW, 'EUR'), current: 'warlordMonthly', previous: null, upgrade: FEE, firstPayment: true, expected: null },
    {
      name: 'upgrade fee paid again later (not the first payment) → not an upgrade, judged by price (uncounted)',
      payment: pay('22.50', days(5)),
      current: 'warlordMonthly',
      previous: 'warlordMonthly',
      upgrade: FEE,
      firstPayment: false,
      expected: null,
    },
    { name: 'upgrade fee paid at `until` → judged by price (uncounted)', payment: pay('22.50', days(15)), current: 'warlordMonthly', previous: null, upgrade: FEE, firstPayment: true, expected: null },
    {
      name: 'a full-price payment after `until` → judged by price: one interval from the payment',
      payment: pay('49.99', days(15) + 1),
      current: 'warlordMonthly',
      previous: null,
      upgrade: FEE,
      firstPayment: true,
      expected: { plan: 'warlordMonthly', coversUntil: addInterval(days(15) + 1, 'MONTH', 1) },
    },
  ];

  it.each(rows)('$name', (row) => {
    const a = attributePayment({
      payment: row.payment,
      current: row.current === null ? null : PRICE[row.current],
      previous: row.previous === null ? null : PRICE[row.previous],
      upgrade: row.upgrade ?? null,
      firstPayment: row.firstPayment ?? row.previous === null,
      rankOf,
    });
    expect(a === null ? null : { plan: keyOf(a.plan.planId), coversUntil: new Date(a.coversUntil).toISOString() }).toEqual(
      row.expected === null ? null : { plan: row.expected.plan, coversUntil: new Date(row.expected.coversUntil).toISOString() },
    );
    if (a !== null) expect(a.plan).toEqual(PRICE[keyOf(a.plan.planId)]);
  });
});

describe('a payment covers one interval of its own plan (calendar arithmetic)', () => {
  // Moved from the old computePaidThrough rows: the interval now comes from the plan the payment counted for.
  const rows: { name: string; at: string; unit: string; count: number; expected: string }[] = [
    { name: 'MONTH: Jan 31 + 1 month = Feb 29 in a leap year', at: '2024-01-31T15:30:00Z', unit: 'MONTH', count: 1, expected: '2024-02-29T15:30:00Z' },
    { name: 'MONTH: Jan 31 + 1 month = Feb 28 otherwise', at: '2023-01-31T15:30:00Z', unit: 'MONTH', count: 1, expected: '2023-02-28T15:30:00Z' },
    { name: 'MONTH: Mar 31 + 1 month = Apr 30', at: '2024-03-31T00:00:00Z', unit: 'MONTH', count: 1, expected: '2024-04-30T00:00:00Z' },
    { name: 'MONTH: Dec 15 + 1 month crosses the year', at: '2024-12-15T08:00:00Z', unit: 'MONTH', count: 1, expected: '2025-01-15T08:00:00Z' },
    { name: 'MONTH ×3: Nov 30 + 3 months = Feb 28', at: '2024-11-30T08:00:00Z', unit: 'MONTH', count: 3, expected: '2025-02-28T08:00:00Z' },
    { name: 'YEAR: Feb 29 + 1 year = Feb 28', at: '2024-02-29T12:00:00Z', unit: 'YEAR', count: 1, expected: '2025-02-28T12:00:00Z' },
    { name: 'YEAR: Jun 10 + 1 year', at: '2023-06-10T12:00:00Z', unit: 'YEAR', count: 1, expected: '2024-06-10T12:00:00Z' },
    { name: 'YEAR ×2', at: '2023-06-10T12:00:00Z', unit: 'YEAR', count: 2, expected: '2025-06-10T12:00:00Z' },
    { name: 'DAY ×7', at: '2024-03-10T12:00:00Z', unit: 'DAY', count: 7, expected: '2024-03-17T12:00:00Z' },
    { name: 'DAY ×1 across the end of February (leap year)', at: '2024-02-28T12:00:00Z', unit: 'DAY', count: 1, expected: '2024-02-29T12:00:00Z' },
    { name: 'WEEK ×1', at: '2024-03-10T12:00:00Z', unit: 'WEEK', count: 1, expected: '2024-03-17T12:00:00Z' },
    { name: 'WEEK ×2', at: '2024-03-10T12:00:00Z', unit: 'WEEK', count: 2, expected: '2024-03-24T12:00:00Z' },
    { name: 'SEMI_MONTH ×1 = 15 days', at: '2024-03-10T12:00:00Z', unit: 'SEMI_MONTH', count: 1, expected: '2024-03-25T12:00:00Z' },
    { name: 'unknown unit never extends access beyond the payment', at: '2024-03-10T12:00:00Z', unit: 'FORTNIGHT', count: 1, expected: '2024-03-10T12:00:00Z' },
  ];
  it.each(rows)('$name', (row) => {
    const plan: PlanPrice = { planId: 'P-CUSTOM', value: '1.00', currency: 'USD', intervalUnit: row.unit, intervalCount: row.count };
    const a = attributePayment({ payment: pay('1.00', T(row.at)), current: plan, previous: null, upgrade: null, firstPayment: true, rankOf: () => 1 });
    expect(a === null ? null : new Date(a.coversUntil).toISOString()).toBe(new Date(T(row.expected)).toISOString());
  });
});

describe('settlePayments', () => {
  const paid = (plan: PlanKey | null, until: number | null, lastPaymentAt: number | null): PaidFacts => ({ plan: plan === null ? null : PRICE[plan], until, lastPaymentAt });
  const settle = (known: PaidFacts, payments: PaymentEvidence[], current: PlanKey | null, upgrade: UpgradeTerms | null = null) =>
    settlePayments({ known, payments, current: current === null ? null : PRICE[current], upgrade, rankOf });

  it('ignores payments not newer than the last one known (the same, and older ones)', () => {
    const known = paid('eliteMonthly', MONTH_AFTER_NOW, NOW);
    const s = settle(known, [pay('49.99', NOW), pay('49.99', days(-3))], 'warlordMonthly');
    expect(s).toEqual({ paid: known, counted: [], uncounted: [] });
  });

  it('counts the same payment reported twice (billing_info and its transaction) once', () => {
    const s = settle(NOTHING_PAID, [pay('19.99'), pay('19.99')], 'titanMonthly');
    expect(s.counted).toHaveLength(1);
    expect(s.uncounted).toEqual([]);
    expect(s.paid).toEqual(paid('titanMonthly', MONTH_AFTER_NOW, NOW));
  });

  it('folds payments in time order whatever order they arrive in; the latest counted payment sets the period', () => {
    const later = days(31);
    const s = settle(NOTHING_PAID, [pay('4.99', later), pay('4.99', NOW)], 'eliteMonthly');
    expect(s.counted.map((c) => c.payment.at)).toEqual([NOW, later]);
    expect(s.paid).toEqual(paid('eliteMonthly', addInterval(later, 'MONTH', 1), later));
  });

  it('keeps the latest counted payment’s own period: a later cheaper payment does not stretch an earlier dearer plan', () => {
    // Warlord paid at NOW, then downgraded to elite: the renewal at elite's price buys elite's month, not a longer warlord.
    const renewal = MONTH_AFTER_NOW;
    const s = settle(paid('warlordMonthly', MONTH_AFTER_NOW, NOW), [pay('4.99', renewal)], 'eliteMonthly');
    expect(s.paid).toEqual(paid('eliteMonthly', addInterval(renewal, 'MONTH', 1), renewal));
    // And a cheaper payment that reaches no candidate price extends nothing: warlord keeps only its own month.
    const u = settle(paid('warlordMonthly', MONTH_AFTER_NOW, NOW), [pay('4.99', days(10))], 'warlordMonthly');
    expect(u.paid).toEqual(paid('warlordMonthly', MONTH_AFTER_NOW, days(10)));
    expect(u.counted).toEqual([]);
    expect(u.uncounted).toEqual([pay('4.99', days(10))]);
  });

  it('an uncounted payment moves lastPaymentAt only; a counted one after it still counts', () => {
    const s = settle(NOTHING_PAID, [pay('1.00', NOW), pay('9.99', days(2))], 'legendaryMonthly');
    expect(s.uncounted).toEqual([pay('1.00', NOW)]);
    expect(s.counted.map((c) => c.attribution.plan.planId)).toEqual([PLAN_IDS.legendaryMonthly]);
    expect(s.paid).toEqual(paid('legendaryMonthly', addInterval(days(2), 'MONTH', 1), days(2)));
  });

  it('instant upgrade: the fee counts only as the first payment; the next one at the fee is judged by price', () => {
    const upgrade: UpgradeTerms = { fee: '22.50', currency: 'USD', until: days(15) };
    const s = settle(NOTHING_PAID, [pay('22.50', NOW), pay('22.50', days(1))], 'warlordMonthly', upgrade);
    expect(s.counted.map((c) => [keyOf(c.attribution.plan.planId), c.attribution.coversUntil])).toEqual([['warlordMonthly', days(15)]]);
    expect(s.uncounted).toEqual([pay('22.50', days(1))]);
    expect(s.paid).toEqual(paid('warlordMonthly', days(15), days(1)));
  });
});

describe('prorateUpgrade', () => {
  // Formula: ceil((to cents / to interval ms − from cents / from interval ms) × remaining ms), a month being 30 days, a year 365.
  const rows: { name: string; from: PlanPrice; to: PlanPrice; remaining: number; expected: string | null }[] = [
    // (4999 − 499) / 30 days × 15 days = 2250 cents exactly
    { name: 'elite 4.99/month → warlord 49.99/month with 15 of 30 days left → 22.50', from: PRICE.eliteMonthly, to: PRICE.warlordMonthly, remaining: 15 * DAY_MS, expected: '22.50' },
    { name: 'titan 19.99/month → warlord 49.99/month over a whole month → the full difference, 30.00', from: PRICE.titanMonthly, to: PRICE.warlordMonthly, remaining: 30 * DAY_MS, expected: '30.00' },
    // (999 − 499) / 30 × 7 = 116.67 cents → rounded up
    { name: 'elite → legendary with 7 days left → rounded up to the cent, 1.17', from: PRICE.eliteMonthly, to: PRICE.legendaryMonthly, remaining: 7 * DAY_MS, expected: '1.17' },
    { name: 'titan monthly → titan yearly: the year costs less per day → no charge', from: PRICE.titanMonthly, to: PRICE.titanYearly, remaining: 10 * DAY_MS, expected: null },
    { name: 'a downgrade (warlord → elite) → no charge', from: PRICE.warlordMonthly, to: PRICE.eliteMonthly, remaining: 15 * DAY_MS, expected: null },
    { name: 'the same plan → no charge', from: PRICE.eliteMonthly, to: PRICE.eliteMonthly, remaining: 15 * DAY_MS, expected: null },
    { name: 'another currency → no charge', from: PRICE.eliteMonthly, to: { ...PRICE.warlordMonthly, currency: 'EUR' }, remaining: 15 * DAY_MS, expected: null },
    { name: 'an unknown interval → no charge', from: PRICE.eliteMonthly, to: { ...PRICE.warlordMonthly, intervalUnit: 'FORTNIGHT' }, remaining: 15 * DAY_MS, expected: null },
    { name: 'an interval count of 0 → no charge', from: { ...PRICE.eliteMonthly, intervalCount: 0 }, to: PRICE.warlordMonthly, remaining: 15 * DAY_MS, expected: null },
    { name: 'a malformed price → no charge', from: PRICE.eliteMonthly, to: { ...PRICE.warlordMonthly, value: 'lots' }, remaining: 15 * DAY_MS, expected: null },
    { name: 'nothing left of the period → no charge', from: PRICE.eliteMonthly, to: PRICE.warlordMonthly, remaining: 0, expected: null },
    { name: 'a period already over → no charge', from: PRICE.eliteMonthly, to: PRICE.warlordMonthly, remaining: -DAY_MS, expected: null },
  ];
  it.each(rows)('$name', (row) => {
    expect(prorateUpgrade(row.from, row.to, row.remaining)).toBe(row.expected);
  });
});

describe('planUpgrade', () => {
  const rows: { name: string; from: PlanPrice | null; to: PlanPrice; paidThrough: number | null; expected: ReturnType<typeof planUpgrade> }[] = [
    {
      name: 'elite → warlord with 15 days paid left → instant: 22.50 USD now, the new plan’s cycle from paid-through',
      from: PRICE.eliteMonthly,
      to: PRICE.warlordMonthly,
      paidThrough: days(15),
      expected: { kind: 'instant', fee: '22.50', currency: 'USD', startsAt: days(15) },
    },
    // (4999 − 499) / 30 days × 1 hour = 6.25 cents → 7
    {
      name: 'exactly MIN_UPGRADE_PERIOD_MS left → still instant, fee rounded up',
      from: PRICE.eliteMonthly,
      to: PRICE.warlordMonthly,
      paidThrough: NOW + MIN_UPGRADE_PERIOD_MS,
      expected: { kind: 'instant', fee: '0.07', currency: 'USD', startsAt: NOW + MIN_UPGRADE_PERIOD_MS },
    },
    { name: 'less than MIN_UPGRADE_PERIOD_MS left → at renewal', from: PRICE.eliteMonthly, to: PRICE.warlordMonthly, paidThrough: NOW + MIN_UPGRADE_PERIOD_MS - 1, expected: { kind: 'at-renewal' } },
    { name: 'paid-through already passed → at renewal', from: PRICE.eliteMonthly, to: PRICE.warlordMonthly, paidThrough: days(-1), expected: { kind: 'at-renewal' } },
    { name: 'paid-through unknown → at renewal', from: PRICE.eliteMonthly, to: PRICE.warlordMonthly, paidThrough: null, expected: { kind: 'at-renewal' } },
    { name: 'nothing paid yet → at renewal', from: null, to: PRICE.warlordMonthly, paidThrough: days(15), expected: { kind: 'at-renewal' } },
    { name: 'the new plan is not dearer per day (titan monthly → yearly) → at renewal', from: PRICE.titanMonthly, to: PRICE.titanYearly, paidThrough: days(15), expected: { kind: 'at-renewal' } },
    { name: 'another currency → at renewal', from: PRICE.eliteMonthly, to: { ...PRICE.warlordMonthly, currency: 'EUR' }, paidThrough: days(15), expected: { kind: 'at-renewal' } },
  ];
  it.each(rows)('$name', (row) => {
    expect(planUpgrade(row.from, row.to, row.paidThrough, NOW)).toEqual(row.expected);
  });
});

describe('amounts and prices', () => {
  it.each([
    ['4.99', 499],
    ['19.99', 1999],
    ['49.99', 4999],
    ['199.99', 19999],
    ['5', 500],
    ['5.5', 550],
    [' 4.99 ', 499],
    ['0', 0],
    ['-1.00', null],
    ['1.999', null],
    ['1e3', null],
    ['abc', null],
    ['', null],
    ['1234567890123', null],
  ] as const)('toCents(%j) = %j', (value, expected) => {
    expect(toCents(value)).toBe(expected);
  });

  it.each([
    [2250, '22.50'],
    [7, '0.07'],
    [4999, '49.99'],
  ] as const)('fromCents(%j) = %j', (cents, expected) => {
    expect(fromCents(cents)).toBe(expected);
  });

  it.each([
    [PRICE.warlordMonthly, '49.99 USD / month'],
    [PRICE.titanYearly, '199.99 USD / year'],
    [{ ...PRICE.legendaryMonthly, intervalCount: 2 }, '9.99 USD every 2 months'],
    [{ ...PRICE.eliteMonthly, intervalUnit: 'SEMI_MONTH' }, '4.99 USD / half-month'],
    [{ ...PRICE.eliteMonthly, intervalUnit: 'SEMI_MONTH', intervalCount: 2 }, '4.99 USD every 2 half-months'],
  ] as const)('describePrice → %j', (plan, expected) => {
    expect(describePrice(plan)).toBe(expected);
  });
});

// ── scenarios: payments and plan changes over time, then entitlement ─────────

/** The stored subscription after the payments so far (paid-through from the counted payment only). */
function facts(planShown: PlanKey, paid: PaidFacts, over: Partial<SubscriptionFacts> = {}): SubscriptionFacts {
  return {
    id: 'I-S',
    planId: PLAN_IDS[planShown],
    tierKey: null,
    state: 'active',
    accessUntil: null,
    revokedAt: null,
    paidPlanId: paid.plan?.planId ?? null,
    paidTierKey: paid.plan === null ? null : (catalog.byPlan(paid.plan.planId)?.key ?? null),
    paidThrough: paid.until,
    ...over,
  };
}
const tierAt = (s: SubscriptionFacts, at: number) => entitlement([s], [], catalog, at).tier?.key ?? null;

describe('scenarios', () => {
  it('upgrade then downgrade before renewal, repeated: with every payment at elite’s price → elite only, never more', () => {
    let paid = NOTHING_PAID;
    let shown: PlanKey = 'eliteMonthly';
    let t = NOW;
    for (let month = 0; month < 6; month++) {
      // PayPal charged elite's price this cycle; the plan shown when we read it may already be revised again.
      paid = settlePayments({ known: paid, payments: [pay('4.99', t)], current: PRICE[shown], upgrade: null, rankOf }).paid;
      expect(paid.plan?.planId).toBe(PLAN_IDS.eliteMonthly);
      for (const next of ['warlordMonthly', 'eliteMonthly', 'titanYearly', 'legendaryMonthly', 'warlordMonthly'] as const) {
        shown = next;
        for (const at of [t, t + 10 * DAY_MS, t + 40 * DAY_MS]) {
          expect(tierAt(facts(shown, paid), at)).toBe('elite');
          expect(tierAt(facts(shown, paid, { state: 'cancelled', accessUntil: paid.until }), at)).toBe(at < (paid.until ?? 0) ? 'elite' : null);
        }
      }
      t = paid.until ?? t;
    }
  });

  it('upgrade by revise, then a payment at warlord’s price → warlord counts from then', () => {
    const first = settlePayments({ known: NOTHING_PAID, payments: [pay('4.99', NOW)], current: PRICE.eliteMonthly, upgrade: null, rankOf }).paid;
    // Revised to warlord: nothing changes until PayPal charges warlord's price.
    expect(tierAt(facts('warlordMonthly', first), days(5))).toBe('elite');
    const renewal = first.until ?? 0;
    const second = settlePayments({ known: first, payments: [pay('49.99', renewal)], current: PRICE.warlordMonthly, upgrade: null, rankOf }).paid;
    expect(second).toEqual({ plan: PRICE.warlordMonthly, until: addInterval(renewal, 'MONTH', 1), lastPaymentAt: renewal });
    expect(tierAt(facts('warlordMonthly', second), renewal)).toBe('warlord');
  });

  it('downgrade warlord → elite: warlord until paid-through, elite after; cancelled: warlord until paid-through only', () => {
    const paid = settlePayments({ known: NOTHING_PAID, payments: [pay('49.99', NOW)], current: PRICE.warlordMonthly, upgrade: null, rankOf }).paid;
    const end = paid.until ?? 0;
    expect(tierAt(facts('eliteMonthly', paid), end - 1)).toBe('warlord');
    expect(tierAt(facts('eliteMonthly', paid), end)).toBe('elite');
    const cancelled = facts('eliteMonthly', paid, { state: 'cancelled', accessUntil: end });
    expect(tierAt(cancelled, end - 1)).toBe('warlord');
    expect(tierAt(cancelled, end)).toBeNull();
  });

  it('monthly → yearly: the last monthly payment gives one month; the yearly price, a year', () => {
    const monthly = settlePayments({ known: NOTHING_PAID, payments: [pay('19.99', NOW)], current: PRICE.titanYearly, upgrade: null, rankOf }).paid;
    // First payment with no previous plan and a yearly plan shown: 19.99 reaches no candidate.
    expect(monthly.plan).toBeNull();
    const m = settlePayments({ known: { plan: PRICE.titanMonthly, until: NOW, lastPaymentAt: days(-31) }, payments: [pay('19.99', NOW)], current: PRICE.titanYearly, upgrade: null, rankOf }).paid;
    expect(m).toEqual({ plan: PRICE.titanMonthly, until: MONTH_AFTER_NOW, lastPaymentAt: NOW });
    const y = settlePayments({ known: m, payments: [pay('199.99', MONTH_AFTER_NOW)], current: PRICE.titanYearly, upgrade: null, rankOf }).paid;
    expect(y).toEqual({ plan: PRICE.titanYearly, until: addInterval(MONTH_AFTER_NOW, 'YEAR', 1), lastPaymentAt: MONTH_AFTER_NOW });
  });
});

// ── property: entitlement never exceeds what was paid ────────────────────────

const PAYABLE = ['4.99', '9.99', '19.99', '49.99', '199.99', '0.50', '7.00', '25.00', '500.00', 'n/a'] as const;
const eventArb = fc.oneof(
  fc.record({ kind: fc.constant('revise' as const), plan: fc.constantFrom(...PLAN_KEYS) }),
  fc.record({
    kind: fc.constant('pay' as const),
    value: fc.constantFrom(...PAYABLE),
    currency: fc.constantFrom('USD', 'USD', 'USD', 'EUR'),
    gapMs: fc.integer({ min: 1, max: 400 * DAY_MS }),
    /** PayPal reports the same payment again (billing_info and the transaction), or an older one. */
    echo: fc.constantFrom('none', 'same', 'older'),
  }),
);
const STATES = [...SUBSCRIPTION_STATES, 'mystery'];

/** The highest rank any catalogue plan has whose price (in the payment's currency) the amount reaches. */
function highestReached(p: PaymentEvidence): number {
  const paid = toCents(p.value);
  let best = -Infinity;
  for (const k of PLAN_KEYS) {
    const price = toCents(PRICE[k].value);
    if (paid !== null && price !== null && PRICE[k].currency === p.currency && paid >= price) best = Math.max(best, rankOf(PRICE[k].planId));
  }
  return best;
}

describe('property', () => {
  it('for any sequence of payments and plan changes, the tier never exceeds the highest-ranked plan some counted payment reached (no upgrade fees)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PLAN_KEYS),
        fc.array(eventArb, { maxLength: 25 }),
        fc.constantFrom(...STATES),
        fc.integer({ min: -40 * DAY_MS, max: 400 * DAY_MS }),
        fc.option(fc.integer({ min: -40 * DAY_MS, max: 400 * DAY_MS }), { nil: null }),
        (initial, events, state, probeOffset, accessOffset) => {
          let shown: PlanKey = initial;
          let paid = NOTHING_PAID;
          let t = NOW;
          let ceiling = -Infinity;
          let last: PaymentEvidence | null = null;
          const check = () => {
            for (const at of [t, t + probeOffset]) {
              const s = facts(shown, paid, { state, accessUntil: accessOffset === null ? null : t + accessOffset });
              const e = entitlement([s], [], catalog, at);
              if (ceiling === -Infinity) expect(e.tier).toBeNull();
              else expect(e.tier?.rank ?? -Infinity).toBeLessThanOrEqual(ceiling);
              // The paid plan itself is always one whose price was reached.
              if (paid.plan !== null) expect(rankOf(paid.plan.planId)).toBeLessThanOrEqual(ceiling);
            }
          };
          for (const ev of events) {
            if (ev.kind === 'revise') {
              shown = ev.plan;
            } else {
              t += ev.gapMs;
              const p = pay(ev.value, t, ev.currency);
              const payments = [p];
              if (ev.echo === 'same') payments.push({ ...p });
              if (ev.echo === 'older' && last !== null) payments.push(last);
              const s = settlePayments({ known: paid, payments, current: PRICE[shown], upgrade: null, rankOf });
              for (const c of s.counted) {
                // A counted payment always reaches the price of the plan it is counted for.
                expect(toCents(c.payment.value) ?? -1).toBeGreaterThanOrEqual(toCents(c.attribution.plan.value) ?? Infinity);
                expect(c.payment.currency).toBe(c.attribution.plan.currency);
                ceiling = Math.max(ceiling, highestReached(c.payment));
              }
              expect(s.counted.length + s.uncounted.length).toBeLessThanOrEqual(1);
              paid = s.paid;
              last = p;
            }
            check();
          }
        },
      ),
    );
  });
});
