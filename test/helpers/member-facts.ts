import type { GrantFacts } from '../../src/core/entitlement.ts';
import type { SummarySubscription } from '../../src/core/member-summary.ts';
import { DAY_MS } from '../../src/core/time.ts';

/** Member rows as the pure core reads them, for table tests: dated around the test's `now`. */

/** An ACTIVE subscription whose latest payment (10 days ago) bought its own plan, paid through 20 days ahead. */
export function paidSubscription(id: string, planId: string, now: number, over: Partial<SummarySubscription> = {}): SummarySubscription {
  return {
    id,
    planId,
    tierKey: null,
    paidPlanId: planId,
    paidTierKey: null,
    state: 'active',
    accessUntil: null,
    revokedAt: null,
    nextBillingAt: now + 20 * DAY_MS,
    paidThrough: now + 20 * DAY_MS,
    graceUntil: null,
    lastPaymentAt: now - 10 * DAY_MS,
    createdAt: now - 40 * DAY_MS,
    ...over,
  };
}

/** A running lifetime grant that started 10 days ago. */
export function grantFacts(id: number, tierKey: string, now: number, over: Partial<GrantFacts> = {}): GrantFacts {
  return { id, tierKey, startsAt: now - 10 * DAY_MS, expiresAt: null, revokedAt: null, ...over };
}
