import { describe, expect, it } from 'vitest';
import { checkoutRequestId } from '../../src/app/start-checkout.ts';
import { APPROVE_LINK_TTL_MS, decideCheckout, resolvePlan, type CheckoutSubscription } from '../../src/core/checkout.ts';
import { listUnlockedScripts } from '../../src/core/tiers.ts';
import type { GrantFacts } from '../../src/core/entitlement.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { PLAN_IDS, TIER_KEYS, testCatalog } from '../helpers/tiers.ts';

const catalog = testCatalog();
const NOW = Date.parse('2024-03-15T12:00:00Z');
const ME = '300000000000000001';
const days = (n: number) => NOW + n * DAY_MS;
const tier = (key: string) => {
  const t = catalog.byKey(key);
  if (t === undefined) throw new Error(key);
  return t;
};

const sub = (id: string, planId: string, over: Partial<CheckoutSubscription> = {}): CheckoutSubscription => ({
  id,
  planId,
  tierKey: catalog.byPlan(planId)?.key ?? null,
  paidPlanId: planId,
  paidTierKey: null,
  state: 'active',
  accessUntil: null,
  revokedAt: null,
  customId: ME,
  approveUrl: null,
  nextBillingAt: days(20),
  paidThrough: days(20),
  graceUntil: null,
  createdAt: days(-10),
  ...over,
});
const pending = (id: string, planId: string, over: Partial<CheckoutSubscription> = {}) =>
  sub(id, planId, { state: 'pending', approveUrl: `https://paypal.test/checkoutnow?ba_token=BA-${id}`, nextBillingAt: null, paidThrough: null, paidPlanId: null, createdAt: NOW - 60_000, ...over });
const grant = (id: number, tierKey: string, over: Partial<GrantFacts> = {}): GrantFacts => ({ id, tierKey, startsAt: days(-1), expiresAt: null, revokedAt: null, ...over });

const decide = (tierKey: string, o: { plan?: string; subs?: CheckoutSubscription[]; grants?: GrantFacts[] } = {}) =>
  decideCheckout({ catalog, memberId: ME, tierKey, planName: o.plan ?? null, subscriptions: o.subs ?? [], grants: o.grants ?? [], now: NOW });

interface Row {
  name: string;
  tier: string;
  plan?: string;
  subs?: CheckoutSubscription[];
  grants?: GrantFacts[];
  expected: Record<string, unknown>;
}

const monthly = { id: PLAN_IDS.titanMonthly, name: 'Monthly' };
const rows: Row[] = [
  { name: 'nothing → create with the tier’s first plan', tier: 'titan', expected: { kind: 'create', plan: monthly } },
  { name: 'plan by name, any case → that plan', tier: 'titan', plan: 'YEARLY', expected: { kind: 'create', plan: { id: PLAN_IDS.titanYearly, name: 'Yearly' } } },
  { name: 'unknown tier → refused naming the tiers', tier: 'gold', expected: { kind: 'refused', message: expect.stringMatching(/no “gold” tier.*Elite, Legendary, Titan or Warlord/) } },
  { name: 'a plan the tier lacks → refused naming its plans', tier: 'titan', plan: 'weekly', expected: { kind: 'refused', message: expect.stringMatching(/no “weekly” plan; choose Monthly or Yearly \(or leave `plan` out for Monthly\)/) } },
  { name: 'a plan for a one-plan tier → refused', tier: 'elite', plan: 'yearly', expected: { kind: 'refused', message: expect.stringMatching(/Elite is sold on one plan only \(4\.99 USD \/ month\)/) } },
  {
    name: 'active subscription for the tier → held, with its renewal',
    tier: 'titan',
    subs: [sub('I-T', PLAN_IDS.titanMonthly)],
    expected: { kind: 'held-subscription', subscriptionId: 'I-T', renewsAt: days(20), pastDueUntil: null },
  },
  {
    name: 'past-due subscription for the tier → held, with the grace end',
    tier: 'titan',
    subs: [sub('I-T', PLAN_IDS.titanMonthly, { state: 'past_due', accessUntil: days(3), graceUntil: days(3) })],
    expected: { kind: 'held-subscription', pastDueUntil: days(3) },
  },
  {
    name: 'the same tier on another plan, asked by name → a plan change',
    tier: 'titan',
    plan: 'yearly',
    subs: [sub('I-T', PLAN_IDS.titanMonthly)],
    expected: { kind: 'change', subscriptionId: 'I-T', direction: 'plan', plan: { id: PLAN_IDS.titanYearly, name: 'Yearly' } },
  },
  {
    name: 'the same tier on another plan, no plan asked → held',
    tier: 'titan',
    subs: [sub('I-T', PLAN_IDS.titanYearly)],
    expected: { kind: 'held-subscription', subscriptionId: 'I-T' },
  },
  { name: 'a lifetime grant of the tier is not a payment → a checkout starts (the grant runs on)', tier: 'legendary', grants: [grant(1, TIER_KEYS.legendary)], expected: { kind: 'create' } },
  { name: 'a time-boxed grant of the tier is not a payment → a checkout starts', tier: 'legendary', grants: [grant(1, TIER_KEYS.legendary, { expiresAt: days(7) })], expected: { kind: 'create' } },
  { name: 'an expired or revoked grant → create', tier: 'legendary', grants: [grant(1, TIER_KEYS.legendary, { expiresAt: days(-1) }), grant(2, TIER_KEYS.legendary, { revokedAt: days(-1) })], expected: { kind: 'create' } },
  { name: 'a grant of another tier → create', tier: 'legendary', grants: [grant(1, TIER_KEYS.warlord)], expected: { kind: 'create' } },
  {
    name: 'active elite, asks titan → upgrade of that subscription',
    tier: 'titan',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly)],
    expected: { kind: 'change', subscriptionId: 'I-E', direction: 'upgrade', from: tier('elite'), plan: monthly },
  },
  {
    name: 'active titan, asks elite → downgrade, effective at paid-through',
    tier: 'elite',
    subs: [sub('I-T', PLAN_IDS.titanMonthly, { paidThrough: days(12) })],
    expected: { kind: 'change', subscriptionId: 'I-T', direction: 'downgrade', from: tier('titan'), paidThrough: days(12) },
  },
  {
    name: 'after a downgrade (titan paid, plan now elite), asking titan again → a plan change back (titan is paid for), not an upgrade to pay',
    tier: 'titan',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(12) })],
    expected: { kind: 'change', subscriptionId: 'I-D', direction: 'plan', from: tier('titan'), paidThrough: days(12) },
  },
  {
    name: 'an upgrade revised but not yet paid (elite paid, plan warlord): asking warlord is an upgrade to pay for, not "already held"',
    tier: 'warlord',
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(12) })],
    expected: { kind: 'change', subscriptionId: 'I-U', direction: 'upgrade', from: tier('elite'), paidThrough: days(12) },
  },
  {
    name: 'a downgrade under way (titan paid, plan elite): asking elite again → already held, no second revise',
    tier: 'elite',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(12) })],
    expected: { kind: 'held-subscription', subscriptionId: 'I-D' },
  },
  {
    name: 'a live subscription and no usable pending checkout: revise rather than a second subscription',
    tier: 'titan',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly), pending('I-P', PLAN_IDS.titanYearly), pending('I-OLD', PLAN_IDS.titanMonthly, { createdAt: NOW - APPROVE_LINK_TTL_MS })],
    expected: { kind: 'change', subscriptionId: 'I-E', direction: 'upgrade' },
  },
  {
    name: 'a recent pending checkout of the plan (an instant upgrade started) is reused before revising the live subscription',
    tier: 'titan',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly), pending('I-P', PLAN_IDS.titanMonthly)],
    expected: { kind: 'reuse', subscriptionId: 'I-P', approveUrl: 'https://paypal.test/checkoutnow?ba_token=BA-I-P', plan: monthly },
  },
  {
    name: 'cancelled subscription of the tier still running → create (a new subscription)',
    tier: 'titan',
    subs: [sub('I-C', PLAN_IDS.titanMonthly, { state: 'cancelled', accessUntil: days(5) })],
    expected: { kind: 'create' },
  },
  { name: 'refunded subscription → create', tier: 'titan', subs: [sub('I-R', PLAN_IDS.titanMonthly, { revokedAt: days(-1) })], expected: { kind: 'create' } },
  {
    name: 'a recent pending checkout of the plan → reuse its link',
    tier: 'titan',
    subs: [pending('I-P', PLAN_IDS.titanMonthly)],
    expected: { kind: 'reuse', subscriptionId: 'I-P', approveUrl: 'https://paypal.test/checkoutnow?ba_token=BA-I-P' },
  },
  {
    name: 'the newest of two pending checkouts',
    tier: 'titan',
    subs: [pending('I-OLD', PLAN_IDS.titanMonthly, { createdAt: NOW - 3_600_000 }), pending('I-NEW', PLAN_IDS.titanMonthly)],
    expected: { kind: 'reuse', subscriptionId: 'I-NEW' },
  },
  { name: 'pending checkout of another plan → create', tier: 'titan', plan: 'yearly', subs: [pending('I-P', PLAN_IDS.titanMonthly)], expected: { kind: 'create' } },
  { name: 'pending checkout older than the link lives → create', tier: 'titan', subs: [pending('I-P', PLAN_IDS.titanMonthly, { createdAt: NOW - APPROVE_LINK_TTL_MS })], expected: { kind: 'create' } },
  {
    name: 'a recent abandoned checkout of the plan → offered again (reuse), no second subscription at PayPal',
    tier: 'titan',
    subs: [pending('I-P', PLAN_IDS.titanMonthly, { state: 'abandoned' })],
    expected: { kind: 'reuse', subscriptionId: 'I-P' },
  },
  { name: 'an abandoned checkout older than the link lives → create', tier: 'titan', subs: [pending('I-P', PLAN_IDS.titanMonthly, { state: 'abandoned', createdAt: NOW - APPROVE_LINK_TTL_MS })], expected: { kind: 'create' } },
  { name: 'pending row without an approve link (seen only by webhook) → create', tier: 'titan', subs: [pending('I-P', PLAN_IDS.titanMonthly, { approveUrl: null })], expected: { kind: 'create' } },
  { name: 'pending checkout made for someone else’s custom_id → create', tier: 'titan', subs: [pending('I-P', PLAN_IDS.titanMonthly, { customId: '999' })], expected: { kind: 'create' } },
];

describe('decideCheckout', () => {
  it.each(rows)('$name', (row) => {
    expect(decide(row.tier, { ...(row.plan === undefined ? {} : { plan: row.plan }), subs: row.subs ?? [], grants: row.grants ?? [] })).toMatchObject(row.expected);
  });
});

describe('resolvePlan', () => {
  it('unnamed plans are "Plan 1", "Plan 2"…, and the first is the default', () => {
    expect(resolvePlan(tier('elite'), null)).toEqual({ ok: true, plan: { id: PLAN_IDS.eliteMonthly, name: 'Plan 1' } });
    expect(resolvePlan(tier('elite'), ' plan 1 ')).toEqual({ ok: true, plan: { id: PLAN_IDS.eliteMonthly, name: 'Plan 1' } });
  });
});

describe('listUnlockedScripts', () => {
  it.each([
    ['elite', ['Starter Scripts']],
    ['legendary', ['Starter Scripts', 'Advanced Scripts']],
    ['warlord', ['Starter Scripts', 'Advanced Scripts']],
  ])('%s unlocks %j (cumulative by rank)', (key, names) => {
    expect(listUnlockedScripts(catalog, tier(key)).map((s) => s.name)).toEqual(names);
  });
});

describe('checkoutRequestId', () => {
  it('names the checkout attempt, not the time: the same for a repeat, different by member, plan and the subscription it comes after', () => {
    const id = checkoutRequestId(ME, PLAN_IDS.titanMonthly, null);
    expect(id).toMatch(/^concierge-subscribe-[0-9a-f]{40}$/);
    expect(checkoutRequestId(ME, PLAN_IDS.titanMonthly, null)).toBe(id);
    expect(checkoutRequestId(ME, PLAN_IDS.titanYearly, null)).not.toBe(id);
    expect(checkoutRequestId('300000000000000002', PLAN_IDS.titanMonthly, null)).not.toBe(id);
    const after = checkoutRequestId(ME, PLAN_IDS.titanMonthly, 'I-FIRST0000001');
    expect(after).not.toBe(id);
    expect(checkoutRequestId(ME, PLAN_IDS.titanMonthly, 'I-SECOND000001')).not.toBe(after);
  });
});
