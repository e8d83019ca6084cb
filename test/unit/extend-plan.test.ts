import { describe, expect, it } from 'vitest';
import { parseDuration, type Duration } from '../../src/core/duration.ts';
import type { GrantFacts, SubscriptionFacts } from '../../src/core/entitlement.ts';
import { planExtend, type ExtendPlan } from '../../src/core/extend-plan.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { grantFacts, paidSubscription } from '../helpers/member-facts.ts';
import { PLAN_IDS, TIER_KEYS, testCatalog } from '../helpers/tiers.ts';

const catalog = testCatalog();
const NOW = Date.parse('2024-03-15T12:00:00Z');
const days = (n: number) => NOW + n * DAY_MS;
const MEMBER = '300000000000000001';

const sub = (id: string, planId: string, over: Partial<SubscriptionFacts> = {}) => paidSubscription(id, planId, NOW, over);
const grant = (id: number, tierKey: string, over: Partial<GrantFacts> = {}) => grantFacts(id, tierKey, NOW, over);
const d = (text: string): Duration => {
  const p = parseDuration(text);
  if (!p.ok) throw new Error(p.message);
  return p.duration;
};

/** The plan's shape without the Tier objects: the tier key stands for them. */
function shape(p: ExtendPlan) {
  if (p.kind === 'refused') return { kind: p.kind, message: p.message };
  const { tier, ...rest } = p;
  return { ...rest, tier: tier.key };
}

describe('planExtend', () => {
  it.each<[string, SubscriptionFacts[], GrantFacts[], string, unknown]>([
    ['a timed grant ends later by the duration', [], [grant(1, TIER_KEYS.legendary, { expiresAt: days(3) })], '7d', { kind: 'grant', grantId: 1, tier: 'legendary', from: days(3), to: days(10) }],
    [
      'the grant giving the tier is the one extended, not a lower one',
      [],
      [grant(1, TIER_KEYS.elite, { expiresAt: days(30) }), grant(2, TIER_KEYS.titan, { expiresAt: days(2) })],
      '12h',
      { kind: 'grant', grantId: 2, tier: 'titan', from: days(2), to: days(2) + DAY_MS / 2 },
    ],
    [
      'access from an active subscription: goodwill of its tier from paid-through',
      [sub('I-E', PLAN_IDS.eliteMonthly)],
      [],
      '7d',
      { kind: 'goodwill', tier: 'elite', subscriptionId: 'I-E', startsAt: days(20), expiresAt: days(27) },
    ],
    [
      'a cancelled subscription: goodwill starts where its access ends',
      [sub('I-T', PLAN_IDS.titanMonthly, { state: 'cancelled', accessUntil: days(6), paidThrough: days(6) })],
      [],
      '1mo',
      { kind: 'goodwill', tier: 'titan', subscriptionId: 'I-T', startsAt: days(6), expiresAt: Date.parse('2024-04-21T12:00:00Z') },
    ],
    [
      'a second extend adds after the first goodwill instead of overlapping it',
      [sub('I-T', PLAN_IDS.titanMonthly, { state: 'cancelled', accessUntil: days(6), paidThrough: days(6) })],
      [grant(4, TIER_KEYS.titan, { startsAt: days(6), expiresAt: days(13) })],
      '3d',
      { kind: 'goodwill', tier: 'titan', subscriptionId: 'I-T', startsAt: days(13), expiresAt: days(16) },
    ],
    [
      'a revoked goodwill grant is not built on',
      [sub('I-T', PLAN_IDS.titanMonthly, { state: 'cancelled', accessUntil: days(6), paidThrough: days(6) })],
      [grant(4, TIER_KEYS.titan, { startsAt: days(6), expiresAt: days(13), revokedAt: days(-1) })],
      '3d',
      { kind: 'goodwill', tier: 'titan', subscriptionId: 'I-T', startsAt: days(6), expiresAt: days(9) },
    ],
    [
      'past due (paid-through passed, in grace): goodwill starts now',
      [sub('I-L', PLAN_IDS.legendaryMonthly, { state: 'past_due', accessUntil: days(2), paidThrough: days(-1) })],
      [],
      '2w',
      { kind: 'goodwill', tier: 'legendary', subscriptionId: 'I-L', startsAt: NOW, expiresAt: days(14) },
    ],
    ['nothing to extend', [], [], '7d', { kind: 'refused', message: `<@${MEMBER}> has no access to extend. Use \`/admin grant\` to give them a tier.` }],
    ['an expired grant is nothing to extend', [], [grant(1, TIER_KEYS.elite, { expiresAt: days(-1) })], '7d', { kind: 'refused', message: expect.stringMatching(/no access to extend/) }],
    ['a lifetime grant has no end', [], [grant(1, TIER_KEYS.warlord)], '7d', { kind: 'refused', message: expect.stringMatching(/lifetime grant: there is no end/) }],
    [
      'a lifetime grant of the tier after the subscription',
      [sub('I-E', PLAN_IDS.eliteMonthly)],
      [grant(1, TIER_KEYS.elite)],
      '7d',
      { kind: 'refused', message: expect.stringMatching(/already holds a lifetime \*\*Elite\*\* grant/) },
    ],
    ['lifetime is not a length', [sub('I-E', PLAN_IDS.eliteMonthly)], [], 'lifetime', { kind: 'refused', message: expect.stringMatching(/use `\/admin grant` with `lifetime`/) }],
  ])('%s', (_name, subs, grants, duration, expected) => {
    expect(shape(planExtend(subs, grants, catalog, NOW, MEMBER, d(duration)))).toEqual(expected);
  });
});
