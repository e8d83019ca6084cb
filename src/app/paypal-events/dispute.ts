import { parseIso } from '../../core/time.ts';
import type { Logger } from '../../log.ts';
import type { WebhookEventRow } from '../../store/inbox-repo.ts';
import { getPayment, setPaymentState } from '../../store/payment-repo.ts';
import { isNotFound, type DisputeView } from '../paypal-reads.ts';
import { inEventTx } from './event-tx.ts';
import type { ProcessDeps, RouteOf } from './handler.ts';
import { locateSale } from './locate-sale.ts';
import { revokeSubscriptions } from './revoke-subscriptions.ts';
import { applyReversal, ignoreOutsideSale } from './sale-reversal.ts';
import { recordUnconfirmed } from './unconfirmed.ts';

/**
 * CUSTOMER.DISPUTE.* said to be at chargeback stage: the dispute counts once
 * PayPal reports it at that stage; the sales come from PayPal's dispute, not
 * the body. Their subscriptions are revoked; a sale Concierge has not
 * recorded is placed in its subscription by PayPal (locate-sale.ts).
 */
export async function revokeForDispute(deps: ProcessDeps, event: WebhookEventRow, route: RouteOf<'chargeback'>, log: Logger | undefined): Promise<void> {
  const { disputeId } = route;
  let dispute: DisputeView;
  try {
    dispute = await deps.paypal.getDispute(disputeId);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return recordUnconfirmed(deps, event, `PayPal knows no dispute ${disputeId}`, log, null);
  }
  if (dispute.stage !== 'CHARGEBACK') return recordUnconfirmed(deps, event, `dispute ${disputeId} is at stage ${dispute.stage ?? 'unknown'} at PayPal, not chargeback`, log, null);
  // PayPal's time of the chargeback (its read, never the body); a payment completed after it keeps access.
  const chargedBackAt = parseIso(dispute.createTime);
  const known = dispute.saleIds.map((id) => getPayment(deps.store.db, id)).filter((p) => p !== undefined);
  if (known.length === 0) return revokeUnrecordedSale(deps, event, dispute, chargedBackAt, log);
  inEventTx(deps, event, (tx, now) => {
    const at = chargedBackAt ?? now;
    for (const p of known) setPaymentState(tx, p.id, 'disputed', now);
    const subscriptions = [...new Set(known.map((p) => p.subscriptionId))];
    revokeSubscriptions(tx, deps.effects, subscriptions, `sale ${known.map((p) => p.id).join(', ')} charged back (dispute ${disputeId})`, deps.tiers.current(), now, event.id, at);
  });
}

/**
 * A chargeback of a sale Concierge never recorded (its COMPLETED event late or lost, while a subscription read
 * already counted the payment): PayPal places the sale in its subscription, which is revoked as for a recorded one.
 */
async function revokeUnrecordedSale(deps: ProcessDeps, event: WebhookEventRow, dispute: DisputeView, chargedBackAt: number | null, log: Logger | undefined): Promise<void> {
  const outside: string[] = [];
  const unknown: string[] = [];
  for (const saleId of dispute.saleIds) {
    const located = await locateSale(deps, saleId, [chargedBackAt]);
    if (located.kind === 'found') {
      const why = `sale ${saleId} charged back (dispute ${dispute.id})`;
      return applyReversal(deps, event, { subscriptionId: located.subscriptionId, saleId, sale: located.sale, state: 'disputed', taken: { at: chargedBackAt, why } });
    }
    if (located.kind === 'not-subscription') outside.push(saleId);
    else unknown.push(located.why);
  }
  if (unknown.length === 0 && outside.length > 0) return ignoreOutsideSale(deps, event, outside.join(', '));
  return recordUnconfirmed(deps, event, `dispute ${dispute.id}: ${unknown.join('; ') || 'names no sale'}`, log, null);
}
