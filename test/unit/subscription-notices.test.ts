import { describe, expect, it } from 'vitest';
import { chooseTransitionDm, describeTransition, type Transition, type TransitionDm, type TransitionNote } from '../../src/core/subscription-notices.ts';
import type { SubscriptionState } from '../../src/core/subscription-state.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { TIER_KEYS } from '../helpers/tiers.ts';

/** What a subscription's state change tells the audit channel and the member. */

const NOW = Date.parse('2024-03-15T12:00:00Z');
const MEMBER = '300000000000000001';
const GRACE = NOW + 3 * DAY_MS;
const ACCESS = NOW + 20 * DAY_MS;
const iso = (t: number) => new Date(t).toISOString();

const change = (before: SubscriptionState | null, after: SubscriptionState, over: Partial<Transition> = {}): Transition => ({
  memberId: MEMBER,
  subscriptionId: 'I-1',
  before,
  after,
  accessUntil: ACCESS,
  graceUntil: GRACE,
  ...over,
});

describe('describeTransition', () => {
  it.each<{ name: string; t: Transition; want: TransitionNote | null }>([
    { name: 'no change', t: change('past_due', 'past_due'), want: null },
    { name: 'activation (announced by the tier change instead)', t: change('pending', 'active'), want: null },
    { name: 'a first read already active', t: change(null, 'active'), want: null },
    { name: 'revoked (announced by the revocation)', t: change('active', 'revoked'), want: null },
    { name: 'a failed payment', t: change('active', 'past_due'), want: { kind: 'subscription.past_due', severity: 'warning', message: `<@${MEMBER}> payment failed on I-1; access kept until ${iso(GRACE)}` } },
    { name: 'suspended', t: change('active', 'suspended'), want: { kind: 'subscription.suspended', severity: 'warning', message: `<@${MEMBER}> subscription I-1 suspended by PayPal; access until ${iso(ACCESS)}` } },
    { name: 'cancelled', t: change('active', 'cancelled'), want: { kind: 'subscription.cancelled', severity: 'warning', message: `<@${MEMBER}> subscription I-1 cancelled; access until ${iso(ACCESS)}` } },
    { name: 'expired, end unknown', t: change('cancelled', 'expired', { accessUntil: null }), want: { kind: 'subscription.expired', severity: 'warning', message: `<@${MEMBER}> subscription I-1 expired; access until unknown` } },
    {
      name: 'an unlinked subscription, with its cause',
      t: change('active', 'cancelled', { memberId: null, cause: 'by the member from Discord' }),
      want: { kind: 'subscription.cancelled', severity: 'warning', message: `An unlinked member’s subscription I-1 cancelled; access until ${iso(ACCESS)} (by the member from Discord)` },
    },
  ])('$name', ({ t, want }) => {
    expect(describeTransition(t)).toEqual(want);
  });
});

describe('chooseTransitionDm', () => {
  const tier = { paidTierKey: TIER_KEYS.titan, tierKey: TIER_KEYS.elite };
  it.each<{ name: string; t: Transition; tier?: { paidTierKey: string | null; tierKey: string | null }; want: TransitionDm | null }>([
    { name: 'a failed payment: until the grace end, the tier paid for', t: change('active', 'past_due'), want: { memberId: MEMBER, kind: 'payment_failed', tierKey: TIER_KEYS.titan, until: GRACE } },
    { name: 'a cancellation: until access ends', t: change('active', 'cancelled'), want: { memberId: MEMBER, kind: 'cancelled', tierKey: TIER_KEYS.titan, until: ACCESS } },
    { name: 'nothing paid yet: the tier of the plan', t: change('active', 'cancelled'), tier: { paidTierKey: null, tierKey: TIER_KEYS.elite }, want: { memberId: MEMBER, kind: 'cancelled', tierKey: TIER_KEYS.elite, until: ACCESS } },
    { name: 'a first read already cancelled', t: change(null, 'cancelled'), want: { memberId: MEMBER, kind: 'cancelled', tierKey: TIER_KEYS.titan, until: ACCESS } },
    { name: 'still past due', t: change('past_due', 'past_due'), want: null },
    { name: 'an unlinked subscription', t: change('active', 'cancelled', { memberId: null }), want: null },
    { name: 'suspended', t: change('active', 'suspended'), want: null },
    { name: 'expired', t: change('cancelled', 'expired'), want: null },
    { name: 'activated', t: change('pending', 'active'), want: null },
  ])('$name', ({ t, tier: own, want }) => {
    expect(chooseTransitionDm(t, own ?? tier)).toEqual(want);
  });
});
