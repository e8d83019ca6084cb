import { decideAccess } from './subscription-state.ts';
import type { Tier, TierCatalog } from './tiers.ts';

/**
 * entitlement(subscriptions, grants, tiers, now): the one highest tier a
 * member should hold, and why. Pure; the single answer role sync, /status and
 * the lapse logic all use.
 */

export interface SubscriptionFacts {
  id: string;
  planId: string;
  tierKey: string | null;
  state: string;
  accessUntil: number | null;
  revokedAt: number | null;
  /** The plan the latest counted payment paid for (null: nothing paid yet, so no tier). */
  paidPlanId: string | null;
  /** That plan's tier when it was counted: covers a plan since removed from the tiers file. */
  paidTierKey: string | null;
  /** The end of the period paid for (the later of PayPal's next billing time and the last payment's own period). */
  paidThrough: number | null;
}

/** States in which PayPal keeps billing: access runs on past the paid period through the renewal and its retries. */
const RENEWING: ReadonlySet<string> = new Set(['active', 'past_due', 'suspended']);

export interface GrantFacts {
  id: number;
  tierKey: string;
  startsAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export type EntitlementSource = { kind: 'subscription'; id: string; state: string } | { kind: 'grant'; id: number };

export type Entitlement =
  | { tier: null; source: null; until: null; reviewAt: number | null }
  | {
      tier: Tier;
      source: EntitlementSource;
      /** When this entitlement ends; null = open-ended (active subscription or lifetime grant). */
      until: number | null;
      /** Earliest future time at which the answer may change: schedule a lapse check then. */
      reviewAt: number | null;
    };

interface Candidate {
  tier: Tier;
  source: EntitlementSource;
  until: number | null;
}

/** Orders candidates: higher rank, then longer-lasting (null = forever), then subscriptions over grants. */
function better(a: Candidate, b: Candidate): boolean {
  if (a.tier.rank !== b.tier.rank) return a.tier.rank > b.tier.rank;
  if (a.until !== b.until) return a.until === null || (b.until !== null && a.until > b.until);
  return a.source.kind === 'subscription' && b.source.kind === 'grant';
}

function minTime(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

export function entitlement(subscriptions: readonly SubscriptionFacts[], grants: readonly GrantFacts[], catalog: TierCatalog, now: number): Entitlement {
  const candidates: Candidate[] = [];
  let upcoming: number | null = null;

  for (const s of subscriptions) {
    const access = decideAccess(s, now);
    if (!access.has) continue;
    const tiers = resolvePaidTiers(s, catalog);
    if (tiers === null) continue;
    const source = { kind: 'subscription', id: s.id, state: s.state } as const;
    // The tier paid for, for the period paid for.
    if (s.paidThrough !== null && s.paidThrough > now) candidates.push({ tier: tiers.paid, source, until: minTime(s.paidThrough, access.until) });
    // Past it, while PayPal keeps billing: the lower of what was paid and what the next charge is for, so a
    // plan revised upward counts only once a payment at its price completes, and a downgrade from then on.
    if (RENEWING.has(s.state)) candidates.push({ tier: tiers.renewal, source, until: access.until });
  }
  for (const g of grants) {
    if (g.revokedAt !== null) continue;
    if (g.expiresAt !== null && g.expiresAt <= now) continue;
    const tier = catalog.byKey(g.tierKey);
    if (tier === undefined) continue;
    if (g.startsAt > now) {
      upcoming = minTime(upcoming, g.startsAt);
      continue;
    }
    candidates.push({ tier, source: { kind: 'grant', id: g.id }, until: g.expiresAt });
  }

  let best: Candidate | undefined;
  for (const c of candidates) if (best === undefined || better(c, best)) best = c;
  if (best === undefined) return { tier: null, source: null, until: null, reviewAt: upcoming };
  return { tier: best.tier, source: best.source, until: best.until, reviewAt: minTime(best.until, upcoming) };
}

/**
 * The tier a subscription's latest counted payment bought (under the current
 * tiers file; the stored key covers a plan since removed from it), and the
 * tier it renews into: the lower of that and the tier of the plan PayPal
 * bills next. Null when nothing has been paid.
 */
export function resolvePaidTiers(s: Pick<SubscriptionFacts, 'planId' | 'tierKey' | 'paidPlanId' | 'paidTierKey'>, catalog: TierCatalog): { paid: Tier; renewal: Tier } | null {
  if (s.paidPlanId === null) return null;
  const paid = catalog.byPlan(s.paidPlanId) ?? (s.paidTierKey !== null ? catalog.byKey(s.paidTierKey) : undefined);
  if (paid === undefined) return null;
  const next = catalog.byPlan(s.planId) ?? (s.tierKey !== null ? catalog.byKey(s.tierKey) : undefined);
  return { paid, renewal: next !== undefined && next.rank < paid.rank ? next : paid };
}

/**
 * A plan change to a lower tier in progress: the tier paid for runs until
 * `until` (the paid-through), then the subscription renews into `next`.
 */
export function pendingDowngrade(
  s: Pick<SubscriptionFacts, 'planId' | 'tierKey' | 'paidPlanId' | 'paidTierKey' | 'paidThrough'>,
  catalog: TierCatalog,
  now: number,
): { paid: Tier; next: Tier; until: number } | null {
  const tiers = resolvePaidTiers(s, catalog);
  if (tiers === null || tiers.renewal.key === tiers.paid.key || s.paidThrough === null || s.paidThrough <= now) return null;
  return { paid: tiers.paid, next: tiers.renewal, until: s.paidThrough };
}

/** A stable string for the source, as stored on the member row. */
export function describeSource(source: EntitlementSource | null): string | null {
  if (source === null) return null;
  return source.kind === 'subscription' ? `subscription:${source.id}` : `grant:${source.id}`;
}
