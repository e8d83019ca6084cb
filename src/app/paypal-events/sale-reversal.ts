import { parseIso } from '../../core/time.ts';
import type { TierCatalog } from '../../core/tiers.ts';
import { ConciergeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Tx } from '../../store/db.ts';
import type { WebhookEventRow } from '../../store/inbox-repo.ts';
import { getPayment, insertPayment, setPaymentState, type PaymentState } from '../../store/payment-repo.ts';
import { getSubscription } from '../../store/subscription-repo.ts';
import { applySubscription, type SubscriptionRead } from '../apply-subscription.ts';
import { recordAudit } from '../audit.ts';
import { readSubscription, type TransactionView } from '../paypal-reads.ts';
import { inEventTx, markOutcome } from './event-tx.ts';
import { findTransaction } from './find-transaction.ts';
import type { ProcessDeps, RouteOf } from './handler.ts';
import { revokeSubscriptions } from './revoke-subscriptions.ts';
import { recordUnconfirmed } from './unconfirmed.ts';
import type { MemberEffects } from '../member-effects.ts';

type ReversalState = Exclude<PaymentState, 'completed'>;
const REVERSAL_STATE: Readonly<Record<string, ReversalState>> = { REFUNDED: 'refunded', PARTIALLY_REFUNDED: 'partially_refunded', REVERSED: 'reversed' };

/**
 * PAYMENT.SALE.REFUNDED and PAYMENT.SALE.REVERSED revoke at once, even while
 * PayPal still reports the subscription ACTIVE, once PayPal's transaction
 * list shows the sale so (nothing in the body is believed). A sale Concierge
 * never recorded is looked up under the subscription the event names; with
 * neither, the job retries (the sale's own event may not have arrived yet).
 */
export async function revokeForReversal(deps: ProcessDeps, event: WebhookEventRow, route: RouteOf<'sale-reversal'>, log: Logger | undefined): Promise<void> {
  const stored = getPayment(deps.store.db, route.saleId);
  const subscriptionId = stored?.subscriptionId ?? route.subscriptionId;
  if (subscriptionId === null) {
    throw new ConciergeError('sale_unknown', `${event.eventType} ${event.id} names sale ${route.saleId}, which Concierge has not recorded yet; retrying until the sale arrives`, { retry: true });
  }
  const sale = await findTransaction(deps, subscriptionId, route.saleId, [parseIso(route.sentAt), stored?.paidAt ?? null]);
  const state = sale === null ? undefined : reversalStateOf(sale.status);
  if (sale === null || state === undefined) {
    return recordUnconfirmed(deps, event, `sale ${route.saleId} of ${subscriptionId} is ${sale?.status ?? 'not found'} at PayPal, not refunded or reversed`, log, subscriptionId);
  }
  return applyReversal(deps, event, { subscriptionId, saleId: route.saleId, sale, state });
}

/** PayPal's transaction status of a sale that was taken back, as Concierge stores it; undefined for a sale still paid in full. */
export function reversalStateOf(status: string | undefined): ReversalState | undefined {
  return REVERSAL_STATE[status ?? ''];
}

/**
 * Records a sale PayPal lists as refunded or reversed and revokes its subscription, in one transaction that
 * marks the event. Also reached from PAYMENT.SALE.COMPLETED when the sale was taken back before that event was
 * processed (a late delivery, a backlog after a crash): PayPal's list is the truth either way.
 */
export async function applyReversal(deps: ProcessDeps, event: WebhookEventRow, r: { subscriptionId: string; saleId: string; sale: TransactionView; state: ReversalState }): Promise<void> {
  const { subscriptionId, sale, state } = r;
  const read = getSubscription(deps.store.db, subscriptionId) === undefined ? await readSubscription(deps.paypal, subscriptionId) : null;
  inEventTx(deps, event, (tx, now) => {
    const catalog = deps.tiers.current();
    const memberId = ensureStored(tx, deps.effects, read, subscriptionId, catalog, now, event.id);
    // Already applied (by the sale's COMPLETED event, processed after the refund): one revocation, one audit entry.
    // (A partial refund may be followed by another, each its own change.)
    if (state !== 'partially_refunded' && getPayment(tx, sale.id)?.state === state) return markOutcome(tx, event.id, memberId, `sale ${r.saleId} already recorded ${state.replace('_', ' ')}`, now);
    recordSaleState(tx, sale, subscriptionId, memberId, state, event.id, now);
    if (state === 'partially_refunded' && catalog.policy.on_partial_refund === 'keep') {
      recordAudit(
        tx,
        {
          kind: 'payment.partially_refunded',
          severity: 'warning',
          memberId,
          subscriptionId,
          eventId: event.id,
          message: `${memberId === null ? 'Unlinked subscription' : `<@${memberId}>`}: sale ${r.saleId} partly refunded (${subscriptionId}); access kept (policy on_partial_refund: keep)`,
        },
        now,
      );
      markOutcome(tx, event.id, memberId, 'partial refund; access kept by policy', now);
      return;
    }
    revokeSubscriptions(tx, deps.effects, [subscriptionId], `sale ${r.saleId} ${state.replace('_', ' ')}`, catalog, now, event.id);
  });
}

/** A subscription never stored is applied from PayPal's read first, already revoked, so the revocation has a row to stand on and nothing is granted on the way. Returns its member. */
function ensureStored(tx: Tx, effects: MemberEffects, read: SubscriptionRead | null, subscriptionId: string, catalog: TierCatalog, now: number, eventId: string): string | null {
  if (read !== null) applySubscription(tx, read, { catalog, effects, now, eventId, revokedAt: now });
  return getSubscription(tx, subscriptionId)?.memberId ?? null;
}

function recordSaleState(tx: Tx, sale: TransactionView, subscriptionId: string, memberId: string | null, state: ReversalState, eventId: string, now: number): void {
  if (getPayment(tx, sale.id) !== undefined) return setPaymentState(tx, sale.id, state, now);
  const gross = sale.amountWithBreakdown.grossAmount;
  insertPayment(tx, { id: sale.id, subscriptionId, memberId, amount: gross.value, currency: gross.currencyCode, state, paidAt: Math.min(parseIso(sale.time) ?? now, now), eventId }, now);
}
