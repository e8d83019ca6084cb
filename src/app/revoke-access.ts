import { z } from 'zod';
import { planCancel, type AccessAfter, type CancelOutcome } from '../core/cancel-plan.ts';
import type { Entitlement } from '../core/entitlement.ts';
import { resolveSubscriptionTier } from '../core/member-summary.ts';
import type { Tier } from '../core/tiers.ts';
import { getAudit } from '../store/audit-repo.ts';
import type { Store } from '../store/db.ts';
import { revokeMemberGrants } from '../store/grant-repo.ts';
import { ensureMember } from '../store/member-repo.ts';
import { getSubscription, listMemberSubscriptions, setSubscriptionRevoked } from '../store/subscription-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { cancelFromDiscord, type CancelDeps } from './cancel-subscription.ts';
import { recomputeMember } from './recompute-member.ts';
import { recordStaffAction } from './staff-audit.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * `/admin revoke member [reason]`. First step, from the store alone: the
 * member's grants end at once, and the subscription still giving access (if
 * any) is named for staff to decide on. Second step, a button: cancel it at
 * PayPal with the reason (access then follows the cancel policy, through
 * the member's own cancel path), or cancel and end access now with a
 * revocation marker like a refund's, which stands whatever PayPal reports.
 */

export interface RevokeSubscriptionChoice {
  id: string;
  tier: Tier | undefined;
  /** False when it is already cancelled and only its remaining access can be ended. */
  cancellable: boolean;
  /** What the member keeps after a cancel under the policy (for a cancelled one: what is left now). */
  afterCancel: AccessAfter;
}

export type RevokeOutcome =
  | { kind: 'nothing' }
  | { kind: 'revoked'; auditId: number; grantsEnded: number; after: Entitlement; subscription: RevokeSubscriptionChoice | null };

export function revokeAccess(deps: { store: Store; tiers: TiersSource; effects: MemberEffects }, r: { actorId: string; memberId: string; reason: string | null }, now: number): RevokeOutcome {
  const catalog = deps.tiers.current();
  return deps.store.transaction((tx) => {
    const ended = revokeMemberGrants(tx, r.memberId, now);
    const plan = planCancel(listMemberSubscriptions(tx, r.memberId), [], catalog, now);
    const subscription: RevokeSubscriptionChoice | null =
      plan.kind === 'cancellable' ? { id: plan.subscriptionId, tier: plan.tier, cancellable: true, afterCancel: plan.after }
      : plan.kind === 'already_cancelled' ? { id: plan.subscriptionId, tier: plan.after.tier ?? undefined, cancellable: false, afterCancel: plan.after }
      : null;
    if (ended.length === 0 && subscription === null) return { kind: 'nothing' };
    ensureMember(tx, r.memberId, now);
    const grants = ended.length === 0 ? 'no grant to end' : `ended grant${ended.length === 1 ? '' : 's'} ${ended.map((id) => `#${id}`).join(', ')}`;
    const auditId = recordStaffAction(
      tx,
      {
        action: 'revoke',
        actorId: r.actorId,
        targetId: r.memberId,
        summary: `revoked <@${r.memberId}>'s staff access: ${grants}${subscription === null ? '' : `; PayPal subscription ${subscription.id} awaits staff's choice`}`,
        reason: r.reason,
        subscriptionId: subscription?.id ?? null,
        data: { grantsEnded: ended, subscriptionId: subscription?.id ?? null },
      },
      now,
    );
    const after = recomputeMember(tx, deps.effects, r.memberId, catalog, now, { reason: `access revoked by <@${r.actorId}>` });
    return { kind: 'revoked', auditId, grantsEnded: ended.length, after, subscription };
  });
}

/** What the revoke's audit entry says, read back when a button under it is clicked. */
const revokeRecord = z.object({ subscriptionId: z.string().min(1), reason: z.string().nullable() });

export type StaffCancelOutcome =
  | { kind: 'stale' }
  | { kind: 'done'; subscriptionId: string; paypal: CancelOutcome; endedNow: boolean; after: Entitlement };

/**
 * A click on the revoke message's buttons. The button names the member and
 * the revoke's audit entry; both must still agree (the entry is that
 * member's revoke, the subscription still theirs), else nothing happens.
 * PayPal is called before anything is written, so a PayPal failure leaves
 * everything as it was and the button can be used again.
 */
export async function cancelRevokedSubscription(deps: CancelDeps, r: { actorId: string; memberId: string; auditId: number; endNow: boolean }): Promise<StaffCancelOutcome> {
  const entry = getAudit(deps.store.db, r.auditId);
  const record = entry?.kind === 'staff.revoke' && entry.memberId === r.memberId && entry.data !== null ? revokeRecord.safeParse(JSON.parse(entry.data)) : null;
  if (record === null || !record.success) return { kind: 'stale' };
  const { subscriptionId, reason } = record.data;
  if (getSubscription(deps.store.db, subscriptionId)?.memberId !== r.memberId) return { kind: 'stale' };

  const why = reason ?? 'no reason given';
  // PayPal keeps at most 128 characters of the note.
  const paypalReason = `Revoked by staff: ${why}`.slice(0, 128);
  const paypal = await cancelFromDiscord(deps, r.memberId, subscriptionId, { paypalReason, cause: `by staff <@${r.actorId}> (/admin revoke)`, callerAudits: true });
  if (paypal.kind === 'not_found') return { kind: 'stale' };

  const now = deps.clock();
  const catalog = deps.tiers.current();
  return deps.store.transaction((tx) => {
    const sub = getSubscription(tx, subscriptionId);
    const tierName = (sub === undefined ? undefined : resolveSubscriptionTier(sub, catalog)?.name) ?? 'membership';
    // Like a refund's revocation: it stands whatever PayPal reports later (core/subscription-state.ts).
    if (r.endNow && sub?.revokedAt == null) setSubscriptionRevoked(tx, subscriptionId, { at: now, reason: `access ended by staff: ${why}` }, now);
    recordStaffAction(
      tx,
      {
        action: r.endNow ? 'end_access' : 'cancel',
        actorId: r.actorId,
        targetId: r.memberId,
        summary: r.endNow
          ? `cancelled <@${r.memberId}>'s PayPal subscription ${subscriptionId} and ended their ${tierName} access now`
          : `cancelled <@${r.memberId}>'s PayPal subscription ${subscriptionId} (${tierName}); access follows the cancel policy`,
        reason,
        subscriptionId,
        data: { paypal: paypal.kind },
      },
      now,
    );
    const after = recomputeMember(tx, deps.effects, r.memberId, catalog, now, { reason: `subscription ${subscriptionId} ${r.endNow ? 'ended' : 'cancelled'} by <@${r.actorId}>`, subscriptionId });
    return { kind: 'done', subscriptionId, paypal, endedNow: r.endNow, after };
  });
}
