import type { TierCatalog } from '../../core/tiers.ts';
import type { Tx } from '../../store/db.ts';
import { markWebhookEvent } from '../../store/inbox-repo.ts';
import { getSubscription, setSubscriptionRevoked } from '../../store/subscription-repo.ts';
import { recordAudit } from '../audit.ts';
import { recomputeMember } from '../recompute-member.ts';
import type { MemberEffects } from '../member-effects.ts';

/**
 * Revokes subscriptions at once (a refund, reversal or chargeback PayPal
 * confirmed), audits each, recomputes their members and marks the event.
 * The revocation stands until a later payment completes or staff restore it.
 */
export function revokeSubscriptions(tx: Tx, effects: MemberEffects, subscriptionIds: readonly string[], why: string, catalog: TierCatalog, now: number, eventId: string): void {
  const members = new Set<string>();
  for (const id of subscriptionIds) {
    setSubscriptionRevoked(tx, id, { at: now, reason: why }, now);
    const memberId = getSubscription(tx, id)?.memberId ?? null;
    recordAudit(
      tx,
      {
        kind: 'subscription.revoked',
        severity: 'danger',
        memberId,
        subscriptionId: id,
        eventId,
        message: `${memberId === null ? 'Unlinked subscription' : `<@${memberId}>`} access revoked: ${why} (${id})`,
      },
      now,
    );
    if (memberId !== null) members.add(memberId);
  }
  for (const memberId of members) recomputeMember(tx, effects, memberId, catalog, now, { reason: why, eventId });
  markWebhookEvent(tx, eventId, members.size > 0 ? 'processed' : 'unlinked', `revoked ${subscriptionIds.join(', ')}`, now);
}
