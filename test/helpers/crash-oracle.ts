import type { StoredSubscription } from '../../src/stand-ins/paypal/server.ts';
import { FIXTURE_PLANS, PLAN_IDS, ROLE_IDS, TIER_ORDER, type TestTierKey } from './tiers.ts';

/**
 * What a member is owed, read from PayPal's final state (the stand-in's
 * model), written independently of src/core so the suite does not check
 * Concierge against itself. The rules are the product's (SPEC "Behaviour
 * details"): a subscription gives its plan's tier once a payment at the
 * plan's price completed; a refund or reversal revokes it until a later
 * payment completes. A storm lasts minutes against monthly and yearly periods
 * and a 3-day grace, so a paid subscription that is ACTIVE, CANCELLED
 * (on_cancel: period_end) or SUSPENDED still gives access at the end.
 */

const TIER_OF_PLAN: Readonly<Record<string, TestTierKey>> = {
  [PLAN_IDS.eliteMonthly]: 'elite',
  [PLAN_IDS.legendaryMonthly]: 'legendary',
  [PLAN_IDS.titanMonthly]: 'titan',
  [PLAN_IDS.titanYearly]: 'titan',
  [PLAN_IDS.warlordMonthly]: 'warlord',
};

const STILL_PAID_FOR = new Set(['ACTIVE', 'CANCELLED', 'SUSPENDED']);

function tierOf(sub: StoredSubscription): TestTierKey | null {
  const tier = TIER_OF_PLAN[sub.planId];
  const price = FIXTURE_PLANS.find((p) => p.id === sub.planId)?.price;
  if (tier === undefined || price === undefined || !STILL_PAID_FOR.has(sub.status)) return null;
  const paid = sub.sales.filter((s) => s.status === 'COMPLETED' && s.amount === price);
  if (paid.length === 0) return null;
  const takenBack = sub.sales.filter((s) => s.status === 'REFUNDED' || s.status === 'REVERSED').map((s) => Date.parse(s.time));
  if (takenBack.length > 0) {
    const lastTakenBack = Math.max(...takenBack);
    if (!paid.some((s) => Date.parse(s.time) > lastTakenBack)) return null;
  }
  return tier;
}

/** The tier role ids a member should hold: the highest tier any of their subscriptions gives, or none. */
export function expectedRoles(subs: readonly StoredSubscription[], memberId: string): string[] {
  let best: TestTierKey | null = null;
  for (const sub of subs) {
    if (sub.customId !== memberId) continue;
    const tier = tierOf(sub);
    if (tier !== null && (best === null || TIER_ORDER.indexOf(tier) > TIER_ORDER.indexOf(best))) best = tier;
  }
  return best === null ? [] : [ROLE_IDS[best]];
}

export const TIER_ROLE_IDS: ReadonlySet<string> = new Set(Object.values(ROLE_IDS));
