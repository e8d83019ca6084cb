import { accessOf } from './subscription-state.ts';
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
  /** After a downgrade: the tier already paid for, kept until `carryUntil` (the end of that paid period). */
  carryTierKey?: string | null;
  carryUntil?: number | null;
}

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
    const access = accessOf(s, now);
    if (!access.has) continue;
    // The plan decides the tier under the current tiers file; the stored key covers a plan since removed from it.
    const tier = catalog.byPlan(s.planId) ?? (s.tierKey !== null ? catalog.byKey(s.tierKey) : undefined);
    if (tier === undefined) continue;
    const source = { kind: 'subscription', id: s.id, state: s.state } as const;
    candidates.push({ tier, source, until: access.until });
    const carried = s.carryTierKey != null && s.carryUntil != null && s.carryUntil > now ? catalog.byKey(s.carryTierKey) : undefined;
    if (carried !== undefined && s.carryUntil != null) candidates.push({ tier: carried, source, until: minTime(s.carryUntil, access.until) });
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

/** A stable string for the source, as stored on the member row. */
export function describeSource(source: EntitlementSource | null): string | null {
  if (source === null) return null;
  return source.kind === 'subscription' ? `subscription:${source.id}` : `grant:${source.id}`;
}
