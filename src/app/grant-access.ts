import { describeDuration, durationEnd, type Duration } from '../core/duration.ts';
import type { Entitlement } from '../core/entitlement.ts';
import { formatDiscordTime } from '../core/messages.ts';
import type { Tier } from '../core/tiers.ts';
import type { Store } from '../store/db.ts';
import { insertGrant } from '../store/grant-repo.ts';
import { ensureMember } from '../store/member-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { recomputeMember } from './recompute-member.ts';
import { recordStaffAction } from './staff-audit.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * `/admin grant member tier [duration]`: a staff comp. The grant, its audit
 * entry and the member's recomputed entitlement commit together; a changed
 * tier enqueues the role sync at once, and recomputeMember schedules the
 * lapse check at the grant's end, which recomputes the member at that exact
 * time (entitlement() counts a grant up to, not including, its expiry). The
 * entitlement is the best of all sources, so a grant ending never takes away
 * a tier the member pays for.
 */

export interface GrantRequest {
  actorId: string;
  memberId: string;
  tierKey: string;
  duration: Duration;
}

export type GrantOutcome =
  | { kind: 'granted'; grantId: number; tier: Tier; expiresAt: number | null; after: Entitlement }
  | { kind: 'unknown_tier'; tierKey: string };

export function grantAccess(deps: { store: Store; tiers: TiersSource; effects: MemberEffects }, r: GrantRequest, now: number): GrantOutcome {
  const catalog = deps.tiers.current();
  const tier = catalog.byKey(r.tierKey);
  if (tier === undefined) return { kind: 'unknown_tier', tierKey: r.tierKey };
  const expiresAt = durationEnd(now, r.duration);
  const length = describeDuration(r.duration);
  return deps.store.transaction((tx) => {
    ensureMember(tx, r.memberId, now);
    const grantId = insertGrant(tx, { memberId: r.memberId, tierKey: tier.key, grantedBy: r.actorId, reason: `/admin grant ${length}`, startsAt: now, expiresAt }, now);
    recordStaffAction(
      tx,
      {
        action: 'grant',
        actorId: r.actorId,
        targetId: r.memberId,
        summary: `granted <@${r.memberId}> **${tier.name}** (${expiresAt === null ? 'lifetime' : `${length}, until ${formatDiscordTime(expiresAt)}`}), grant #${grantId}`,
        reason: null,
        data: { grantId, tier: tier.key, expiresAt },
      },
      now,
    );
    const after = recomputeMember(tx, deps.effects, r.memberId, catalog, now, { reason: `staff grant #${grantId} by <@${r.actorId}>` });
    return { kind: 'granted', grantId, tier, expiresAt, after };
  });
}
