import fc from 'fast-check';
import { DAY_MS, addInterval } from '../../src/core/time.ts';
import type { StoredSubscription } from '../../src/stand-ins/paypal/server.ts';
import { FIXTURE_PLANS, PLAN_IDS, TIER_ORDER, type TestTierKey } from '../helpers/tiers.ts';

/**
 * The lifecycle property tests' model: the actions a member and PayPal take,
 * their arbitraries, and what PayPal's records say the member paid for. The
 * test-side record keeps what PayPal's API does not show (the plan in force
 * when each sale was charged, when a refund or chargeback happened), which
 * the expectations need and Concierge must reconstruct from its reads.
 */

export const GRACE_MS = 3 * DAY_MS; // test/fixtures/tiers.yaml policy.grace_days
export const HOUR_MS = 3_600_000;

export type PlanKey = keyof typeof PLAN_IDS;
const PLAN_KEYS = Object.keys(PLAN_IDS) as PlanKey[];

export type Action =
  | { kind: 'subscribe'; plan: PlanKey }
  | { kind: 'renew' | 'fail' | 'suspend' | 'reactivate' | 'cancel' | 'expire' | 'refund' | 'chargeback'; sub: number }
  | { kind: 'revise'; sub: number; plan: PlanKey }
  | { kind: 'grant'; tier: TestTierKey; days: number }
  | { kind: 'wait'; hours: number }
  /** Delivers `count` pending events at once (any of them: PayPal's order is not kept), then lets the jobs run. */
  | { kind: 'deliver'; pick: number; count: number }
  /** Delivers again an event already delivered (PayPal retries, or sends twice). */
  | { kind: 'redeliver'; pick: number }
  /** PayPal sent it and it never arrived (only reconciliation's backfill finds it). */
  | { kind: 'lose'; pick: number };

const sub = fc.nat({ max: 1 });
const plan = fc.constantFrom(...PLAN_KEYS);

/** PayPal's side and the member's: the money moves. */
const paypalAction: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: plan.map((p) => ({ kind: 'subscribe', plan: p }) as const) },
  { weight: 3, arbitrary: sub.map((s) => ({ kind: 'renew', sub: s }) as const) },
  ...(['fail', 'suspend', 'reactivate', 'cancel', 'expire', 'refund', 'chargeback'] as const).map((kind) => ({ weight: 1, arbitrary: sub.map((s) => ({ kind, sub: s }) as const) })),
  { weight: 2, arbitrary: fc.record({ sub, plan }).map((r) => ({ kind: 'revise', ...r }) as const) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 * 24 }).map((hours) => ({ kind: 'wait', hours }) as const) },
);

const delivery: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ pick: fc.nat(), count: fc.integer({ min: 1, max: 3 }) }).map((r) => ({ kind: 'deliver', ...r }) as const) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'redeliver', pick }) as const) },
);

export interface ActionOptions {
  /** Staff grants among the actions (property c). */
  grants?: boolean;
  /** Events lost on the way (property b: reconciliation must find them). */
  losses?: boolean;
  maxLength?: number;
}

export function actionsArb(o: ActionOptions = {}): fc.Arbitrary<Action[]> {
  const extra: { weight: number; arbitrary: fc.Arbitrary<Action> }[] = [];
  if (o.grants === true) extra.push({ weight: 1, arbitrary: fc.record({ tier: fc.constantFrom(...TIER_ORDER), days: fc.integer({ min: 1, max: 20 }) }).map((r) => ({ kind: 'grant', ...r }) as const) });
  if (o.losses === true) extra.push({ weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'lose', pick }) as const) });
  const step = fc.oneof({ weight: 3, arbitrary: paypalAction }, { weight: 4, arbitrary: delivery }, ...extra);
  return fc.array(step, { minLength: 1, maxLength: o.maxLength ?? 18 });
}

/** What the test remembers of PayPal's history beyond what its API shows. */
export interface PaypalHistory {
  /** The plan in force when each sale was charged (sale id → plan id): PayPal charges the plan's price then. */
  salePlan: Map<string, string>;
  /** When each subscription's sales were refunded or charged back (subscription id → times). */
  reversals: Map<string, number[]>;
  grants: { tier: TestTierKey; expiresAt: number }[];
}

export const newHistory = (): PaypalHistory => ({ salePlan: new Map(), reversals: new Map(), grants: [] });

const planSpec = (planId: string) => {
  const p = FIXTURE_PLANS.find((x) => x.id === planId);
  if (p === undefined) throw new Error(`no fixture plan ${planId}`);
  return p;
};
export const tierOfPlan = (planId: string): TestTierKey => {
  const key = (Object.entries(PLAN_IDS) as [PlanKey, string][]).find(([, id]) => id === planId)?.[0];
  if (key === undefined) throw new Error(`no fixture plan ${planId}`);
  return key.replace(/Monthly|Yearly/, '') as TestTierKey;
};
export const rankOf = (tier: TestTierKey | null): number => (tier === null ? 0 : TIER_ORDER.indexOf(tier) + 1);

/** A tier and until when it holds (null: open-ended). */
interface Claim {
  tier: TestTierKey;
  until: number | null;
}

/**
 * What one subscription entitles to at `now` by PayPal's records (SPEC "Access follows money", lifecycle
 * table): the tier of the plan its latest sale was charged for, for that plan's interval; past it, while
 * PayPal keeps billing (ACTIVE, or in the grace of a failure or suspension), the lower of that and the plan
 * billed next. A refund or chargeback revokes the subscription until a later sale. `paidThrough` is given,
 * because billing systems differ by a day on calendar months (see expectedTier).
 */
function subscriptionClaims(s: StoredSubscription, h: PaypalHistory, now: number, stretch: boolean): Claim[] {
  const sales = s.sales.map((x) => ({ at: Date.parse(x.time), planId: h.salePlan.get(x.id) ?? s.planId })).sort((a, b) => a.at - b.at);
  const last = sales.at(-1);
  if (last === undefined) return [];
  const reversed = Math.max(-Infinity, ...(h.reversals.get(s.id) ?? []));
  if (reversed >= last.at) return [];
  const spec = planSpec(last.planId);
  const own = addInterval(last.at, spec.intervalUnit, spec.intervalCount);
  // PayPal's next_billing_time (an interval on from the sale, by its own calendar) counts too while ACTIVE.
  const next = s.nextBillingTime === null ? own : Date.parse(s.nextBillingTime);
  const paidThrough = stretch ? Math.max(own, next) : own;
  const paid = tierOfPlan(last.planId);
  const nextTier = tierOfPlan(s.planId);
  const renewal = rankOf(nextTier) < rankOf(paid) ? nextTier : paid;
  const failing = s.failedPaymentsCount > 0;
  let accessUntil: number | null;
  switch (s.status) {
    case 'ACTIVE':
      accessUntil = failing ? Math.max(paidThrough, Date.parse(s.lastFailedPayment?.time ?? '') + GRACE_MS) : null;
      break;
    case 'SUSPENDED':
      accessUntil = paidThrough + GRACE_MS;
      break;
    case 'CANCELLED':
    case 'EXPIRED':
      accessUntil = paidThrough;
      break;
    default:
      return [];
  }
  if (accessUntil !== null && accessUntil <= now) return [];
  const claims: Claim[] = [];
  if (paidThrough > now) claims.push({ tier: paid, until: paidThrough });
  if (s.status === 'ACTIVE' || s.status === 'SUSPENDED') claims.push({ tier: renewal, until: accessUntil });
  return claims;
}

function best(claims: readonly Claim[]): TestTierKey | null {
  let top: TestTierKey | null = null;
  for (const c of claims) if (rankOf(c.tier) > rankOf(top)) top = c.tier;
  return top;
}

/**
 * The tier PayPal's records (and staff grants) entitle the member to at `now`, or 'ambiguous' when the
 * answer hangs on a day's difference between calendars (PayPal's next_billing_time against a payment's own
 * interval, end-of-month clamping): the caller then checks a little later.
 */
export function expectedTier(subs: readonly StoredSubscription[], h: PaypalHistory, now: number): TestTierKey | null | 'ambiguous' {
  const grants = h.grants.filter((g) => g.expiresAt > now).map((g) => ({ tier: g.tier, until: g.expiresAt }));
  const answers = [false, true].map((stretch) => best([...grants, ...subs.flatMap((s) => subscriptionClaims(s, h, now, stretch))]));
  return answers[0] === answers[1] ? (answers[0] ?? null) : 'ambiguous';
}

/**
 * The most a member may hold at `now` whatever Concierge has heard so far (property c): the highest tier a
 * sale was charged for (at its plan's price) and that no processed refund or chargeback took back, or a
 * running staff grant. Time is left loose on purpose (a cancellation Concierge has not heard of yet keeps
 * access): what may never happen is a tier nobody paid for.
 */
export function paidCeiling(subs: readonly StoredSubscription[], h: PaypalHistory, now: number, processedReversals: ReadonlySet<string>): TestTierKey | null {
  const claims: Claim[] = h.grants.filter((g) => g.expiresAt > now).map((g) => ({ tier: g.tier, until: g.expiresAt }));
  for (const s of subs) {
    const sales = s.sales.map((x) => ({ at: Date.parse(x.time), planId: h.salePlan.get(x.id) ?? s.planId }));
    const reversed = processedReversals.has(s.id) ? Math.max(-Infinity, ...(h.reversals.get(s.id) ?? [])) : -Infinity;
    for (const x of sales) if (x.at > reversed) claims.push({ tier: tierOfPlan(x.planId), until: null });
  }
  return best(claims);
}

const d = (count = 3): Action => ({ kind: 'deliver', pick: 0, count });

/**
 * Hand-picked sequences every run starts with (fast-check `examples`): what a member who wants more than
 * they paid for would try, and the orders that break a webhook-driven state machine.
 */
export const ADVERSARIAL: Action[][] = [
  // A cancellation heard of, then the paid month runs out.
  [{ kind: 'subscribe', plan: 'eliteMonthly' }, d(), { kind: 'cancel', sub: 0 }, d(), { kind: 'wait', hours: 32 * 24 }],
  // Cancelled before Concierge heard anything: the events arrive late and in reverse.
  [{ kind: 'subscribe', plan: 'legendaryMonthly' }, { kind: 'cancel', sub: 0 }, { kind: 'deliver', pick: 2, count: 1 }, d(), { kind: 'redeliver', pick: 0 }, { kind: 'wait', hours: 40 * 24 }],
  // Elite's price, then a revision to Warlord: Warlord only once its price is paid.
  [{ kind: 'subscribe', plan: 'eliteMonthly' }, d(), { kind: 'revise', sub: 0, plan: 'warlordMonthly' }, d(), { kind: 'wait', hours: 20 * 24 }, { kind: 'redeliver', pick: 0 }],
  // Revised up, then the old payment refunded.
  [{ kind: 'subscribe', plan: 'eliteMonthly' }, d(), { kind: 'revise', sub: 0, plan: 'warlordMonthly' }, { kind: 'refund', sub: 0 }, d(), { kind: 'redeliver', pick: 1 }],
  // Paid Warlord, revised down to Elite: Warlord until the paid month ends, then Elite at the renewal.
  [{ kind: 'subscribe', plan: 'warlordMonthly' }, d(), { kind: 'revise', sub: 0, plan: 'eliteMonthly' }, d(), { kind: 'renew', sub: 0 }, d(), { kind: 'wait', hours: 24 }],
  // A chargeback the buyer won, the dispute delivered twice.
  [{ kind: 'subscribe', plan: 'titanYearly' }, d(), { kind: 'chargeback', sub: 0 }, d(), { kind: 'redeliver', pick: 2 }, { kind: 'redeliver', pick: 2 }],
  // A failed renewal, then suspension: access for the grace period only.
  [{ kind: 'subscribe', plan: 'titanMonthly' }, d(), { kind: 'fail', sub: 0 }, d(), { kind: 'suspend', sub: 0 }, d(), { kind: 'wait', hours: 4 * 24 }],
  // Two subscriptions, the higher one expiring.
  [{ kind: 'subscribe', plan: 'eliteMonthly' }, { kind: 'subscribe', plan: 'warlordMonthly' }, d(), d(), { kind: 'expire', sub: 1 }, d(), { kind: 'wait', hours: 31 * 24 }],
];
