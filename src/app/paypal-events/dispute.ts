import { ConciergeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { WebhookEventRow } from '../../store/inbox-repo.ts';
import { getPayment, setPaymentState } from '../../store/payment-repo.ts';
import { isNotFound, type DisputeView } from '../paypal-reads.ts';
import { inEventTx } from './event-tx.ts';
import type { ProcessDeps, RouteOf } from './handler.ts';
import { revokeSubscriptions } from './revoke-subscriptions.ts';
import { recordUnconfirmed } from './unconfirmed.ts';

/**
 * CUSTOMER.DISPUTE.* said to be at chargeback stage: the dispute counts once
 * PayPal reports it at that stage; the sales come from PayPal's dispute, not
 * the body. Their subscriptions are revoked; a sale Concierge has not
 * recorded yet makes the job retry.
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
  const known = dispute.saleIds.map((id) => getPayment(deps.store.db, id)).filter((p) => p !== undefined);
  if (known.length === 0) {
    throw new ConciergeError('sale_unknown', `dispute ${disputeId} names sale(s) ${dispute.saleIds.join(', ') || '(none)'} that Concierge has not recorded yet; retrying until the sale arrives`, { retry: true });
  }
  inEventTx(deps, event, (tx, now) => {
    for (const p of known) setPaymentState(tx, p.id, 'disputed', now);
    const subscriptions = [...new Set(known.map((p) => p.subscriptionId))];
    revokeSubscriptions(tx, deps.effects, subscriptions, `sale ${known.map((p) => p.id).join(', ')} charged back (dispute ${disputeId})`, deps.tiers.current(), now, event.id);
  });
}
