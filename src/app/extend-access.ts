import type { Duration } from '../core/duration.ts';
import type { Entitlement } from '../core/entitlement.ts';
import { describeExtension, planExtend, type ExtendPlan } from '../core/extend-plan.ts';
import { formatDiscordTime } from '../core/messages.ts';
import type { Store } from '../store/db.ts';
import { insertGrant, listMemberGrants, setGrantExpiry } from '../store/grant-repo.ts';
import { ensureMember } from '../store/member-repo.ts';
import { listMemberSubscriptions } from '../store/subscription-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { recomputeMember } from './recompute-member.ts';
import { recordStaffAction } from './staff-audit.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * `/admin extend member duration` (core/extend-plan.ts decides): a timed
 * grant ends later, or goodwill after a subscription is added as a grant
 * that starts at its paid-through. Decided and written in one transaction,
 * with the audit entry and the recompute, which moves the lapse check to the
 * new end.
 */
export type ExtendOutcome = Extract<ExtendPlan, { kind: 'refused' }> | { kind: 'extended'; plan: Exclude<ExtendPlan, { kind: 'refused' }>; summary: string; after: Entitlement };

export function extendAccess(deps: { store: Store; tiers: TiersSource; effects: MemberEffects }, r: { actorId: string; memberId: string; duration: Duration }, now: number): ExtendOutcome {
  const catalog = deps.tiers.current();
  return deps.store.transaction((tx) => {
    const plan = planExtend(listMemberSubscriptions(tx, r.memberId), listMemberGrants(tx, r.memberId), catalog, now, r.memberId, r.duration);
    if (plan.kind === 'refused') return plan;
    ensureMember(tx, r.memberId, now);
    let grantId: number;
    if (plan.kind === 'grant') {
      grantId = plan.grantId;
      setGrantExpiry(tx, grantId, plan.to);
    } else {
      grantId = insertGrant(
        tx,
        { memberId: r.memberId, tierKey: plan.tier.key, grantedBy: r.actorId, reason: `goodwill after subscription ${plan.subscriptionId} (/admin extend)`, startsAt: plan.startsAt, expiresAt: plan.expiresAt },
        now,
      );
    }
    const summary = describeExtension(plan, { memberId: r.memberId, grantId, duration: r.duration }, formatDiscordTime);
    recordStaffAction(
      tx,
      {
        action: 'extend',
        actorId: r.actorId,
        targetId: r.memberId,
        summary,
        reason: null,
        subscriptionId: plan.kind === 'goodwill' ? plan.subscriptionId : null,
        data: { grantId, kind: plan.kind, tier: plan.tier.key },
      },
      now,
    );
    const after = recomputeMember(tx, deps.effects, r.memberId, catalog, now, { reason: `access extended by <@${r.actorId}>` });
    return { kind: 'extended', plan, summary, after };
  });
}
