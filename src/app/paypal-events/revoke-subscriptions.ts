import { addInterval } from '../../core/time.ts';
import type { TierCatalog } from '../../core/tiers.ts';
import type { Tx } from '../../store/db.ts';
import { markWebhookEvent } from '../../store/inbox-repo.ts';
import { paidPlanSalesAfter } from '../../store/payment-repo.ts';
import { getSubscription, setSubscriptionRevoked, type SubscriptionRow } from '../../store/subscription-repo.ts';
import { recordAudit } from '../audit.ts';
import { recomputeMember } from '../recompute-member.ts';
import type { MemberEffects } from '../member-effects.ts';

/**
 * Revokes subscriptions (a refund, reversal or chargeback PayPal confirmed),
 * audits each, recomputes their members and marks the event. `at` is PayPal's
 * time of the reversal, not when Concierge heard of it: the revocation stands
 * until a payment completed after `at` that reached its plan's price, so one
 * that completed after the chargeback but was processed before it keeps access,
 * and one from before it never does. An earlier `at` never shortens a later
 * revocation already stored.
 */
export function revokeSubscriptions(tx: Tx, effects: MemberEffects, subscriptionIds: readonly string[], why: string, catalog: TierCatalog, now: number, eventId: string, at: number): void {
  const members = new Set<string>();
  for (const id of subscriptionIds) {
    const row = getSubscription(tx, id);
    const since = Math.min(Math.max(at, row?.revokedAt ?? at), now);
    const paidAfter = row !== undefined && paidLater(tx, row, since);
    if (!paidAfter) setSubscriptionRevoked(tx, id, { at: since, reason: why }, now);
    const memberId = row?.memberId ?? null;
    const who = memberId === null ? 'Unlinked subscription' : `<@${memberId}>`;
    recordAudit(
      tx,
      paidAfter
        ? { kind: 'subscription.revocation_superseded', severity: 'warning', memberId, subscriptionId: id, eventId, message: `${who}: ${why} (${id}), but a later payment keeps access` }
        : { kind: 'subscription.revoked', severity: 'danger', memberId, subscriptionId: id, eventId, message: `${who} access revoked: ${why} (${id})` },
      now,
    );
    if (memberId !== null) members.add(memberId);
  }
  for (const memberId of members) recomputeMember(tx, effects, memberId, catalog, now, { reason: why, eventId });
  markWebhookEvent(tx, eventId, members.size > 0 ? 'processed' : 'unlinked', `revoked ${subscriptionIds.join(', ')}`, now);
}

/**
 * Whether a payment completed after `at` and paid for a plan: a recorded sale that reached its price, or the
 * subscription's last payment as a read counted it (its paid period runs exactly one interval from it).
 */
function paidLater(tx: Tx, row: SubscriptionRow, at: number): boolean {
  if (paidPlanSalesAfter(tx, row.id, at).length > 0) return true;
  if (row.lastPaymentAt === null || row.lastPaymentAt <= at || row.paidPlanId === null || row.paidUntil === null || row.intervalUnit === null) return false;
  return addInterval(row.lastPaymentAt, row.intervalUnit, row.intervalCount ?? 1) === row.paidUntil;
}
