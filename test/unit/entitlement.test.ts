import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeSource, entitlement, resolvePaidTiers, pendingDowngrade, type EntitlementSource, type GrantFacts, type SubscriptionFacts } from '../../src/core/entitlement.ts';
import { SUBSCRIPTION_STATES } from '../../src/core/subscription-state.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { PLAN_IDS, TIER_KEYS, TIER_ORDER, UNKNOWN_PLAN_ID, testCatalog, type TestTierKey } from '../helpers/tiers.ts';

const catalog = testCatalog();
const NOW = Date.parse('2024-03-15T12:00:00Z');
const days = (n: number) => NOW + n * DAY_MS;

/** A paid subscription by default: its latest counted payment bought its own plan, period open (paidThrough null). */
const sub = (id: string, planId: string, over: Partial<SubscriptionFacts> = {}): SubscriptionFacts => ({
  id,
  planId,
  tierKey: null,
  state: 'active',
  accessUntil: null,
  revokedAt: null,
  paidPlanId: planId,
  paidTierKey: null,
  paidThrough: null,
  ...over,
});
const grant = (id: number, tierKey: string, over: Partial<GrantFacts> = {}): GrantFacts => ({
  id,
  tierKey,
  startsAt: days(-10),
  expiresAt: null,
  revokedAt: null,
  ...over,
});
const bySub = (id: string, state = 'active'): EntitlementSource => ({ kind: 'subscription', id, state });
const byGrant = (id: number): EntitlementSource => ({ kind: 'grant', id });

interface Row {
  name: string;
  /** Defaults to NOW. */
  now?: number;
  subs?: SubscriptionFacts[];
  grants?: GrantFacts[];
  tier: TestTierKey | null;
  source: EntitlementSource | null;
  until: number | null;
  reviewAt: number | null;
}

const rows: Row[] = [
  { name: 'nothing → no tier', tier: null, source: null, until: null, reviewAt: null },
  { name: 'one active subscription → its tier, open-ended', subs: [sub('I-E', PLAN_IDS.eliteMonthly)], tier: 'elite', source: bySub('I-E'), until: null, reviewAt: null },
  {
    name: 'higher grant beats a lower subscription',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly)],
    grants: [grant(1, TIER_KEYS.warlord)],
    tier: 'warlord',
    source: byGrant(1),
    until: null,
    reviewAt: null,
  },
  {
    name: 'higher subscription beats a lower grant',
    subs: [sub('I-T', PLAN_IDS.titanMonthly)],
    grants: [grant(1, TIER_KEYS.legendary, { expiresAt: days(7) })],
    tier: 'titan',
    source: bySub('I-T'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'highest rank among several subscriptions, whatever their state',
    subs: [
      sub('I-E', PLAN_IDS.eliteMonthly),
      sub('I-W', PLAN_IDS.warlordMonthly, { state: 'cancelled', accessUntil: days(5), paidThrough: days(5) }),
      sub('I-L', PLAN_IDS.legendaryMonthly, { state: 'past_due', accessUntil: days(2) }),
    ],
    tier: 'warlord',
    source: bySub('I-W', 'cancelled'),
    until: days(5),
    reviewAt: days(5),
  },
  { name: "titan's yearly plan → titan", subs: [sub('I-TY', PLAN_IDS.titanYearly)], tier: 'titan', source: bySub('I-TY'), until: null, reviewAt: null },
  {
    name: 'the plan decides over a stale stored tier key',
    subs: [sub('I-TY', PLAN_IDS.titanYearly, { tierKey: TIER_KEYS.elite })],
    tier: 'titan',
    source: bySub('I-TY'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'a plan since removed from the file → the stored tier keys',
    subs: [sub('I-OLD', UNKNOWN_PLAN_ID, { tierKey: TIER_KEYS.legendary, paidTierKey: TIER_KEYS.legendary })],
    tier: 'legendary',
    source: bySub('I-OLD'),
    until: null,
    reviewAt: null,
  },
  { name: 'unknown plan and no tier key → ignored', subs: [sub('I-X', UNKNOWN_PLAN_ID)], tier: null, source: null, until: null, reviewAt: null },
  { name: 'unknown plan and unknown tier key → ignored', subs: [sub('I-X', UNKNOWN_PLAN_ID, { tierKey: 'ghost', paidTierKey: 'ghost' })], tier: null, source: null, until: null, reviewAt: null },
  {
    name: 'grant of an unknown tier key → ignored',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly)],
    grants: [grant(1, 'ghost')],
    tier: 'elite',
    source: bySub('I-E'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'same rank: the longer-lasting grant beats an ending subscription',
    subs: [sub('I-T', PLAN_IDS.titanMonthly, { state: 'cancelled', accessUntil: days(10), paidThrough: days(10) })],
    grants: [grant(1, TIER_KEYS.titan, { expiresAt: days(30) })],
    tier: 'titan',
    source: byGrant(1),
    until: days(30),
    reviewAt: days(30),
  },
  {
    name: 'same rank: an active (open-ended) subscription beats a time-boxed grant',
    subs: [sub('I-T', PLAN_IDS.titanMonthly)],
    grants: [grant(1, TIER_KEYS.titan, { expiresAt: days(30) })],
    tier: 'titan',
    source: bySub('I-T'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'same rank, both open-ended: the subscription beats a lifetime grant',
    subs: [sub('I-T', PLAN_IDS.titanYearly)],
    grants: [grant(1, TIER_KEYS.titan)],
    tier: 'titan',
    source: bySub('I-T'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'same rank, same end: the subscription beats the grant',
    subs: [sub('I-T', PLAN_IDS.titanMonthly, { state: 'past_due', accessUntil: days(3) })],
    grants: [grant(1, TIER_KEYS.titan, { expiresAt: days(3) })],
    tier: 'titan',
    source: bySub('I-T', 'past_due'),
    until: days(3),
    reviewAt: days(3),
  },
  {
    name: 'same rank, two grants: the longer one',
    grants: [grant(1, TIER_KEYS.legendary, { expiresAt: days(3) }), grant(2, TIER_KEYS.legendary, { expiresAt: days(9) })],
    tier: 'legendary',
    source: byGrant(2),
    until: days(9),
    reviewAt: days(9),
  },
  {
    name: 'grant not started yet → not counted, reviewAt = its start',
    grants: [grant(1, TIER_KEYS.warlord, { startsAt: days(2) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: days(2),
  },
  {
    name: 'grant not started yet beside an active subscription → the subscription, reviewAt = the grant start',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly)],
    grants: [grant(1, TIER_KEYS.warlord, { startsAt: days(2), expiresAt: days(9) })],
    tier: 'elite',
    source: bySub('I-E'),
    until: null,
    reviewAt: days(2),
  },
  {
    name: 'several upcoming grants → reviewAt = the earliest start',
    grants: [grant(1, TIER_KEYS.warlord, { startsAt: days(8) }), grant(2, TIER_KEYS.elite, { startsAt: days(4) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: days(4),
  },
  {
    name: 'winner ends before an upcoming grant starts → reviewAt = the winner until',
    grants: [grant(1, TIER_KEYS.titan, { expiresAt: days(3) }), grant(2, TIER_KEYS.elite, { startsAt: days(6) })],
    tier: 'titan',
    source: byGrant(1),
    until: days(3),
    reviewAt: days(3),
  },
  {
    name: 'grant starting exactly now → counted',
    grants: [grant(1, TIER_KEYS.legendary, { startsAt: NOW, expiresAt: days(1) })],
    tier: 'legendary',
    source: byGrant(1),
    until: days(1),
    reviewAt: days(1),
  },
  {
    name: 'expired grants (before now, and exactly now) → ignored',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly)],
    grants: [grant(1, TIER_KEYS.warlord, { expiresAt: NOW - 1 }), grant(2, TIER_KEYS.titan, { expiresAt: NOW })],
    tier: 'elite',
    source: bySub('I-E'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'revoked grant → ignored, even lifetime and higher',
    subs: [sub('I-E', PLAN_IDS.eliteMonthly)],
    grants: [grant(1, TIER_KEYS.warlord, { revokedAt: days(-1) })],
    tier: 'elite',
    source: bySub('I-E'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'revoked or unknown-tier upcoming grants do not set reviewAt',
    grants: [grant(1, TIER_KEYS.warlord, { startsAt: days(2), revokedAt: days(-1) }), grant(2, 'ghost', { startsAt: days(3) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'revoked subscription (refund) → ignored although active; the lower grant wins',
    subs: [sub('I-W', PLAN_IDS.warlordMonthly, { revokedAt: days(-1) })],
    grants: [grant(1, TIER_KEYS.elite, { expiresAt: days(20) })],
    tier: 'elite',
    source: byGrant(1),
    until: days(20),
    reviewAt: days(20),
  },
  {
    name: 'pending, abandoned and revoked-state subscriptions → ignored',
    subs: [
      sub('I-P', PLAN_IDS.warlordMonthly, { state: 'pending' }),
      sub('I-A', PLAN_IDS.warlordMonthly, { state: 'abandoned', accessUntil: days(5) }),
      sub('I-R', PLAN_IDS.warlordMonthly, { state: 'revoked', accessUntil: days(5) }),
    ],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'a cancelled subscription whose access ended (at exactly now) → ignored',
    subs: [sub('I-C', PLAN_IDS.warlordMonthly, { state: 'cancelled', accessUntil: NOW })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  // ── access follows money: the tier paid for, for the period paid for ──
  {
    name: 'nothing paid yet (no counted payment) on an active subscription → no tier',
    subs: [sub('I-N', PLAN_IDS.warlordMonthly, { paidPlanId: null })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'nothing paid yet beside a grant → the grant, even a lower one',
    subs: [sub('I-N', PLAN_IDS.warlordMonthly, { paidPlanId: null, paidThrough: days(30) })],
    grants: [grant(1, TIER_KEYS.elite, { expiresAt: days(5) })],
    tier: 'elite',
    source: byGrant(1),
    until: days(5),
    reviewAt: days(5),
  },
  {
    name: 'a paid plan on the same tier as the plan now billed (titan monthly paid, yearly next) → titan, open-ended',
    subs: [sub('I-TY', PLAN_IDS.titanYearly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(10) })],
    tier: 'titan',
    source: bySub('I-TY'),
    until: null,
    reviewAt: null,
  },
  // downgrade (the old "carry" rows): paid titan, plan now elite
  {
    name: 'downgrade: titan paid, plan now elite, paid-through in 10 days → titan until then',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(10) })],
    tier: 'titan',
    source: bySub('I-D'),
    until: days(10),
    reviewAt: days(10),
  },
  {
    name: 'downgrade whose paid-through is reached (exactly now) → elite, open-ended',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: NOW })],
    tier: 'elite',
    source: bySub('I-D'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'downgrade, cancelled since: titan until the access ends',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { state: 'cancelled', accessUntil: days(4), paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(10) })],
    tier: 'titan',
    source: bySub('I-D', 'cancelled'),
    until: days(4),
    reviewAt: days(4),
  },
  {
    name: 'downgrade on a refunded subscription → nothing',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { revokedAt: days(-1), paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(10) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'paid plan removed from the file → the stored paid tier key, until paid-through',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: UNKNOWN_PLAN_ID, paidTierKey: TIER_KEYS.titan, paidThrough: days(10) })],
    tier: 'titan',
    source: bySub('I-D'),
    until: days(10),
    reviewAt: days(10),
  },
  {
    name: 'paid plan removed from the file, past paid-through → the lower plan tier, open-ended',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: UNKNOWN_PLAN_ID, paidTierKey: TIER_KEYS.titan, paidThrough: days(-1) })],
    tier: 'elite',
    source: bySub('I-D'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'paid plan removed from the file and its stored tier key unknown (ghost) → no tier at all, not even the plan’s',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: UNKNOWN_PLAN_ID, paidTierKey: 'ghost', paidThrough: days(10) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'the paid plan decides over a stale stored paid tier key',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidTierKey: TIER_KEYS.warlord, paidThrough: days(10) })],
    tier: 'titan',
    source: bySub('I-D'),
    until: days(10),
    reviewAt: days(10),
  },
  {
    name: 'downgrade below a lifetime grant → the grant',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(10) })],
    grants: [grant(1, TIER_KEYS.warlord)],
    tier: 'warlord',
    source: byGrant(1),
    until: null,
    reviewAt: null,
  },
  {
    name: 'downgrade vs a same-rank grant that lasts longer → the grant',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(10) })],
    grants: [grant(1, TIER_KEYS.titan, { expiresAt: days(20) })],
    tier: 'titan',
    source: byGrant(1),
    until: days(20),
    reviewAt: days(20),
  },
  {
    name: 'downgrade vs a same-rank grant that ends sooner → the subscription',
    subs: [sub('I-D', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(10) })],
    grants: [grant(1, TIER_KEYS.titan, { expiresAt: days(5) })],
    tier: 'titan',
    source: bySub('I-D'),
    until: days(10),
    reviewAt: days(10),
  },
  // downgrade warlord → elite, over time
  {
    name: 'downgrade: warlord paid, plan now elite → warlord until paid-through',
    subs: [sub('I-W', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(10) })],
    tier: 'warlord',
    source: bySub('I-W'),
    until: days(10),
    reviewAt: days(10),
  },
  {
    name: 'downgrade: warlord paid, plan now elite → elite after paid-through',
    now: days(10),
    subs: [sub('I-W', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(10) })],
    tier: 'elite',
    source: bySub('I-W'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'downgrade then cancel: warlord until paid-through only',
    subs: [sub('I-W', PLAN_IDS.eliteMonthly, { state: 'cancelled', accessUntil: days(10), paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(10) })],
    tier: 'warlord',
    source: bySub('I-W', 'cancelled'),
    until: days(10),
    reviewAt: days(10),
  },
  {
    name: 'downgrade then cancel: nothing after paid-through (never elite)',
    now: days(10),
    subs: [sub('I-W', PLAN_IDS.eliteMonthly, { state: 'cancelled', accessUntil: days(10), paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(10) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'downgrade, past due after paid-through → the lower tier until the grace ends',
    subs: [sub('I-W', PLAN_IDS.eliteMonthly, { state: 'past_due', accessUntil: days(3), paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(-1) })],
    tier: 'elite',
    source: bySub('I-W', 'past_due'),
    until: days(3),
    reviewAt: days(3),
  },
  {
    name: 'downgrade, past due before paid-through → warlord until paid-through',
    subs: [sub('I-W', PLAN_IDS.eliteMonthly, { state: 'past_due', accessUntil: days(12), paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(10) })],
    tier: 'warlord',
    source: bySub('I-W', 'past_due'),
    until: days(10),
    reviewAt: days(10),
  },
  {
    name: 'downgrade, suspended after paid-through → the lower tier until the grace ends',
    subs: [sub('I-W', PLAN_IDS.eliteMonthly, { state: 'suspended', accessUntil: days(2), paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(-1) })],
    tier: 'elite',
    source: bySub('I-W', 'suspended'),
    until: days(2),
    reviewAt: days(2),
  },
  {
    name: 'expired (PayPal stopped billing) past paid-through → nothing, whatever accessUntil says',
    subs: [sub('I-X', PLAN_IDS.titanMonthly, { state: 'expired', accessUntil: days(3), paidThrough: days(-1) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'cancelled with no paid-through known → nothing (a cancelled subscription gives only the period paid for)',
    subs: [sub('I-C', PLAN_IDS.titanMonthly, { state: 'cancelled', accessUntil: days(3) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  // upgrade by revise: PayPal shows the new plan at once but charges its price only from the next cycle
  {
    name: 'upgrade by revise: elite paid, plan now warlord, active → elite (never warlord) while paid',
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(10) })],
    tier: 'elite',
    source: bySub('I-U'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'upgrade by revise: after paid-through with no payment at the new price → still elite',
    now: days(11),
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(10) })],
    tier: 'elite',
    source: bySub('I-U'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'upgrade by revise, past due → elite until the grace ends, never warlord',
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { state: 'past_due', accessUntil: days(3), paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(-1) })],
    tier: 'elite',
    source: bySub('I-U', 'past_due'),
    until: days(3),
    reviewAt: days(3),
  },
  {
    name: 'upgrade by revise, cancelled → elite until paid-through',
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { state: 'cancelled', accessUntil: days(10), paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(10) })],
    tier: 'elite',
    source: bySub('I-U', 'cancelled'),
    until: days(10),
    reviewAt: days(10),
  },
  {
    name: 'upgrade by revise, cancelled → nothing after paid-through',
    now: days(10),
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { state: 'cancelled', accessUntil: days(10), paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(10) })],
    tier: null,
    source: null,
    until: null,
    reviewAt: null,
  },
  {
    name: 'upgrade by revise, then a payment at warlord’s price counted (warlord paid) → warlord',
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.warlordMonthly, paidThrough: days(30) })],
    tier: 'warlord',
    source: bySub('I-U'),
    until: null,
    reviewAt: null,
  },
  {
    name: 'upgrade by revise below a same-rank warlord grant → the grant (the subscription gives only elite)',
    subs: [sub('I-U', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(10) })],
    grants: [grant(1, TIER_KEYS.warlord, { expiresAt: days(5) })],
    tier: 'warlord',
    source: byGrant(1),
    until: days(5),
    reviewAt: days(5),
  },
];

describe('entitlement', () => {
  it.each(rows)('$name', (row) => {
    const subs = row.subs ?? [];
    const grants = row.grants ?? [];
    const expected = { tier: row.tier, source: row.source, until: row.until, reviewAt: row.reviewAt };
    for (const [s, g] of [
      [subs, grants],
      [[...subs].reverse(), [...grants].reverse()],
    ] as const) {
      const e = entitlement(s, g, catalog, row.now ?? NOW);
      expect({ tier: e.tier?.key ?? null, source: e.source, until: e.until, reviewAt: e.reviewAt }).toEqual(expected);
    }
  });

  it('returns the catalog tier itself (name, role id) for the winner', () => {
    const e = entitlement([sub('I-TY', PLAN_IDS.titanYearly)], [], catalog, NOW);
    expect(e.tier).toBe(catalog.byKey(TIER_KEYS.titan));
  });

  it('an upgrade by revise not yet paid returns the catalog tier paid for (elite), not the plan’s', () => {
    const e = entitlement([sub('I-U', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly })], [], catalog, NOW);
    expect(e.tier).toBe(catalog.byKey(TIER_KEYS.elite));
  });

  it.each([
    [null, null],
    [bySub('I-ABC'), 'subscription:I-ABC'],
    [byGrant(42), 'grant:42'],
  ] as const)('describeSource(%j) = %j', (source, expected) => {
    expect(describeSource(source)).toBe(expected);
  });
});

describe('resolvePaidTiers and pendingDowngrade', () => {
  const key = (t: { key: string } | undefined | null) => t?.key ?? null;
  it.each([
    { name: 'nothing paid → null', s: sub('I', PLAN_IDS.titanMonthly, { paidPlanId: null }), paid: null, renewal: null },
    { name: 'paid plan and stored key unknown → null', s: sub('I', PLAN_IDS.titanMonthly, { paidPlanId: UNKNOWN_PLAN_ID, paidTierKey: 'ghost' }), paid: null, renewal: null },
    { name: 'same plan → that tier twice', s: sub('I', PLAN_IDS.titanMonthly), paid: 'titan', renewal: 'titan' },
    { name: 'upgrade by revise → renews into the paid (lower) tier', s: sub('I', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly }), paid: 'elite', renewal: 'elite' },
    { name: 'downgrade → renews into the plan’s lower tier', s: sub('I', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.warlordMonthly }), paid: 'warlord', renewal: 'elite' },
    { name: 'plan unknown, no tier key → renews into the paid tier', s: sub('I', UNKNOWN_PLAN_ID, { paidPlanId: PLAN_IDS.warlordMonthly }), paid: 'warlord', renewal: 'warlord' },
    { name: 'plan unknown, lower stored tier key → that key', s: sub('I', UNKNOWN_PLAN_ID, { tierKey: TIER_KEYS.legendary, paidPlanId: PLAN_IDS.warlordMonthly }), paid: 'warlord', renewal: 'legendary' },
    { name: 'paid plan unknown → the stored paid tier key', s: sub('I', PLAN_IDS.eliteMonthly, { paidPlanId: UNKNOWN_PLAN_ID, paidTierKey: TIER_KEYS.titan }), paid: 'titan', renewal: 'elite' },
  ])('resolvePaidTiers: $name', ({ s, paid, renewal }) => {
    const t = resolvePaidTiers(s, catalog);
    expect([key(t?.paid), key(t?.renewal)]).toEqual([paid, renewal]);
  });

  it.each([
    { name: 'downgrade with paid-through ahead → paid, next and until', s: sub('I', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(12) }), expected: ['titan', 'elite', days(12)] },
    { name: 'downgrade whose paid-through is now → none', s: sub('I', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: NOW }), expected: null },
    { name: 'downgrade with paid-through unknown → none', s: sub('I', PLAN_IDS.eliteMonthly, { paidPlanId: PLAN_IDS.titanMonthly }), expected: null },
    { name: 'upgrade by revise → none (not a downgrade)', s: sub('I', PLAN_IDS.warlordMonthly, { paidPlanId: PLAN_IDS.eliteMonthly, paidThrough: days(12) }), expected: null },
    { name: 'another plan of the same tier → none', s: sub('I', PLAN_IDS.titanYearly, { paidPlanId: PLAN_IDS.titanMonthly, paidThrough: days(12) }), expected: null },
    { name: 'nothing paid → none', s: sub('I', PLAN_IDS.eliteMonthly, { paidPlanId: null, paidThrough: days(12) }), expected: null },
  ])('pendingDowngrade: $name', ({ s, expected }) => {
    const d = pendingDowngrade(s, catalog, NOW);
    expect(d === null ? null : [d.paid.key, d.next.key, d.until]).toEqual(expected);
  });
});

// ── properties ──────────────────────────────────────────────────────────────

const timeArb = fc.oneof(fc.constant(NOW), fc.integer({ min: days(-60), max: days(60) }));
const nul = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: null });
const ALL_PLANS = [...Object.values(PLAN_IDS), UNKNOWN_PLAN_ID];
const KEYS = [...TIER_ORDER, 'ghost'];
const GRACE_STATES: readonly string[] = ['past_due', 'cancelled', 'suspended', 'expired'];
const BILLING_STATES: readonly string[] = ['active', 'past_due', 'suspended'];

const subArb: fc.Arbitrary<SubscriptionFacts> = fc.record({
  id: fc.string({ minLength: 1, maxLength: 6 }),
  planId: fc.constantFrom(...ALL_PLANS),
  tierKey: nul(fc.constantFrom(...KEYS)),
  state: fc.constantFrom(...SUBSCRIPTION_STATES, 'mystery'),
  accessUntil: nul(timeArb),
  revokedAt: nul(timeArb),
  paidPlanId: nul(fc.constantFrom(...ALL_PLANS)),
  paidTierKey: nul(fc.constantFrom(...KEYS)),
  paidThrough: nul(timeArb),
});
const grantArb: fc.Arbitrary<GrantFacts> = fc.record({
  id: fc.nat(),
  tierKey: fc.constantFrom(...KEYS),
  startsAt: timeArb,
  expiresAt: nul(timeArb),
  revokedAt: nul(timeArb),
});

/** An independent statement of who has access now, and at which rank. */
function subRank(s: SubscriptionFacts): number | null {
  if (s.revokedAt !== null) return null;
  const live = s.state === 'active' || (GRACE_STATES.includes(s.state) && s.accessUntil !== null && s.accessUntil > NOW);
  if (!live || s.paidPlanId === null) return null;
  // Only what was paid for gives a tier: within the paid period, that tier; past it, while PayPal still
  // bills, never more than what was paid for nor more than what the next charge is for.
  const paid = catalog.byPlan(s.paidPlanId) ?? (s.paidTierKey === null ? undefined : catalog.byKey(s.paidTierKey));
  if (paid === undefined) return null;
  const next = catalog.byPlan(s.planId) ?? (s.tierKey === null ? undefined : catalog.byKey(s.tierKey));
  const ranks: number[] = [];
  if (s.paidThrough !== null && s.paidThrough > NOW) ranks.push(paid.rank);
  if (BILLING_STATES.includes(s.state)) ranks.push(Math.min(paid.rank, next?.rank ?? paid.rank));
  return ranks.length === 0 ? null : Math.max(...ranks);
}
function grantRank(g: GrantFacts): number | null {
  if (g.revokedAt !== null || g.startsAt > NOW || (g.expiresAt !== null && g.expiresAt <= NOW)) return null;
  return catalog.byKey(g.tierKey)?.rank ?? null;
}

describe('entitlement properties', () => {
  it("the tier has the highest rank among everything giving access now, and its source is one of them", () => {
    fc.assert(
      fc.property(fc.array(subArb, { maxLength: 5 }), fc.array(grantArb, { maxLength: 5 }), (subs, grants) => {
        const ranks = [...subs.map(subRank), ...grants.map(grantRank)].filter((r): r is number => r !== null);
        const e = entitlement(subs, grants, catalog, NOW);
        expect(e.tier?.rank ?? null).toBe(ranks.length === 0 ? null : Math.max(...ranks));
        if (e.source?.kind === 'subscription') {
          const id = e.source.id;
          expect(subs.some((s) => s.id === id && subRank(s) === e.tier?.rank)).toBe(true);
        }
        if (e.source?.kind === 'grant') {
          const id = e.source.id;
          expect(grants.some((g) => g.id === id && grantRank(g) === e.tier?.rank && g.expiresAt === e.until)).toBe(true);
        }
        expect(e.reviewAt === null || e.reviewAt > NOW).toBe(true);
        if (e.until !== null) expect(e.reviewAt).not.toBeNull();
      }),
    );
  });

  it('no subscriptions and no live grants → no tier, and reviewAt is null or in the future', () => {
    const deadGrantArb = fc.oneof(
      grantArb.map((g) => ({ ...g, revokedAt: NOW - 1 })),
      grantArb.map((g) => ({ ...g, expiresAt: NOW - DAY_MS })),
      grantArb.map((g) => ({ ...g, startsAt: NOW + 1 + Math.abs(g.startsAt - NOW) })),
      grantArb.map((g) => ({ ...g, tierKey: 'ghost' })),
    );
    fc.assert(
      fc.property(fc.array(deadGrantArb, { maxLength: 6 }), (grants) => {
        const e = entitlement([], grants, catalog, NOW);
        expect(e.tier).toBeNull();
        expect(e.source).toBeNull();
        expect(e.until).toBeNull();
        expect(e.reviewAt === null || e.reviewAt > NOW).toBe(true);
      }),
    );
  });
});
