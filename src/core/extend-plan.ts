import { addDuration, describeDuration, type Duration } from './duration.ts';
import { entitlement, type GrantFacts, type SubscriptionFacts } from './entitlement.ts';
import type { Tier, TierCatalog } from './tiers.ts';

/**
 * What `/admin extend member duration` does, decided from the member's rows.
 * Pure. Access that comes from a timed grant: the grant ends later. Access
 * that comes from a subscription: goodwill, stored as a grant of the tier the
 * subscription gives, starting where its paid-through ends; the subscription
 * itself is never touched, so paid-through stays what PayPal was paid for.
 */

export type ExtendPlan =
  | { kind: 'grant'; grantId: number; tier: Tier; from: number; to: number }
  | { kind: 'goodwill'; tier: Tier; subscriptionId: string; startsAt: number; expiresAt: number }
  | { kind: 'refused'; message: string };

export function planExtend(subs: readonly SubscriptionFacts[], grants: readonly GrantFacts[], catalog: TierCatalog, now: number, memberId: string, duration: Duration): ExtendPlan {
  if (duration.kind === 'lifetime') {
    return { kind: 'refused', message: 'Extend takes a length such as `7d` or `1mo`. For access that does not end, use `/admin grant` with `lifetime`.' };
  }
  const e = entitlement(subs, grants, catalog, now);
  if (e.tier === null) return { kind: 'refused', message: `<@${memberId}> has no access to extend. Use \`/admin grant\` to give them a tier.` };

  if (e.source.kind === 'grant') {
    const id = e.source.id;
    const grant = grants.find((g) => g.id === id);
    if (grant === undefined || grant.expiresAt === null) {
      return { kind: 'refused', message: `<@${memberId}> holds **${e.tier.name}** through a lifetime grant: there is no end to extend.` };
    }
    return { kind: 'grant', grantId: grant.id, tier: e.tier, from: grant.expiresAt, to: addDuration(grant.expiresAt, duration) };
  }

  const subId = e.source.id;
  const sub = subs.find((s) => s.id === subId);
  const startsAt = chainEnd(Math.max(sub?.paidThrough ?? now, now), grants, e.tier.key);
  if (startsAt === null) {
    return { kind: 'refused', message: `<@${memberId}> already holds a lifetime **${e.tier.name}** grant after their subscription: nothing to extend.` };
  }
  return { kind: 'goodwill', tier: e.tier, subscriptionId: subId, startsAt, expiresAt: addDuration(startsAt, duration) };
}

/**
 * Where goodwill of `tierKey` starting at `start` really starts: after any
 * earlier goodwill (or other grant of that tier) already covering `start`,
 * so a second extend adds to the first instead of overlapping it. Null when
 * a lifetime grant of the tier covers it.
 */
function chainEnd(start: number, grants: readonly GrantFacts[], tierKey: string): number | null {
  let at = start;
  for (let moved = true; moved; ) {
    moved = false;
    for (const g of grants) {
      if (g.revokedAt !== null || g.tierKey !== tierKey || g.startsAt > at) continue;
      if (g.expiresAt === null) return null;
      if (g.expiresAt > at) {
        at = g.expiresAt;
        moved = true;
      }
    }
  }
  return at;
}

/** The staff-facing sentence for a plan that was carried out (without the actor: the audit entry puts them first). */
export function describeExtension(p: Exclude<ExtendPlan, { kind: 'refused' }>, f: { memberId: string; grantId: number; duration: Duration }, formatDate: (t: number) => string): string {
  const length = describeDuration(f.duration);
  return p.kind === 'grant'
    ? `extended <@${f.memberId}>'s ${p.tier.name} grant #${f.grantId} by ${length}: it now ends ${formatDate(p.to)} instead of ${formatDate(p.from)}`
    : `gave <@${f.memberId}> ${length} of goodwill ${p.tier.name} after PayPal subscription ${p.subscriptionId}: grant #${f.grantId}, from ${formatDate(p.startsAt)} until ${formatDate(p.expiresAt)}`;
}
