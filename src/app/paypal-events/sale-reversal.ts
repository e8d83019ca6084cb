import { parseIso } from '../../core/time.ts';
import type { TierCatalog } from '../../core/tiers.ts';
import type { Logger } from '../../log.ts';
import type { Tx } from '../../store/db.ts';
import { markWebhookEvent, type WebhookEventRow } from '../../store/inbox-repo.ts';
import { getPayment, insertPayment, setPaymentState, type PaymentState } from '../../store/payment-repo.ts';
import { getSubscription } from '../../store/subscription-repo.ts';
import { applySubscription, type SubscriptionRead } from '../apply-subscription.ts';
import { recordAudit } from '../audit.ts';
import { readSubscription, type TransactionView } from '../paypal-reads.ts';
import { inEventTx, markOutcome } from './event-tx.ts';
import { findTransaction } from './find-transaction.ts';
import type { ProcessDeps, RouteOf } from './handler.ts';
import { revokeSubscriptions } from './revoke-subscriptions.ts';
import { locateSale } from './locate-sale.ts';
import { recordUnconfirmed } from './unconfirmed.ts';
import type { MemberEffects } from '../member-effects.ts';

type ReversalState = Exclude<PaymentState, 'completed'>;
const REVERSAL_STATE: Readonly<Record<string, ReversalState>> = { REFUNDED: 'refunded', PARTIALLY_REFUNDED: 'partially_refunded', REVERSED: 'reversed' };

/**
 * PAYMENT.SALE.REFUNDED and PAYMENT.SALE.REVERSED revoke at once, even while
 * PayPal still reports the subscription ACTIVE, once PayPal's transaction
 * list shows the sale so (nothing in the body is believed). A sale Concierge
 * never recorded is looked up under the subscription the event names, or
 * else the one PayPal's sale names (locate-sale.ts).
 */
export async function revokeForReversal(deps: ProcessDeps, event: WebhookEventRow, route: RouteOf<'sale-reversal'>, log: Logger | undefined): Promise<void> {
  const stored = getPayment(deps.store.db, route.saleId);
  const hints = [parseIso(route.sentAt), stored?.paidAt ?? null];
  const named = stored?.subscriptionId ?? route.subscriptionId;
  let subscriptionId: string;
  let sale: TransactionView | null;
  if (named !== null) {
    subscriptionId = named;
    sale = await findTransaction(deps, named, route.saleId, hints);
  } else {
    // Only the sale is named and Concierge never recorded it (its COMPLETED event late or lost): PayPal places it.
    const located = await locateSale(deps, route.saleId, hints);
    if (located.kind === 'not-subscription') return ignoreOutsideSale(deps, event, route.saleId);
    if (located.kind === 'unknown') return recordUnconfirmed(deps, event, located.why, log, null);
    ({ subscriptionId, sale } = located);
  }
  const state = sale === null ? undefined : reversalStateOf(sale.status);
  if (sale === null || state === undefined) {
    return recordUnconfirmed(deps, event, `sale ${route.saleId} of ${subscriptionId} is ${sale?.status ?? 'not found'} at PayPal, not refunded or reversed`, log, subscriptionId);
  }
  return applyReversal(deps, event, { subscriptionId, saleId: route.saleId, sale, state });
}

/** A sale of the merchant's that pays no subscription (PayPal says so): not Concierge's business. */
export function ignoreOutsideSale(deps: ProcessDeps, event: WebhookEventRow, saleId: string): void {
  inEventTx(deps, event, (tx, now) => markWebhookEvent(tx, event.id, 'ignored', `sale ${saleId} pays no subscription at PayPal`, now));
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
export async function applyReversal(
  deps: ProcessDeps,
  event: WebhookEventRow,
  r: { subscriptionId: string; saleId: string; sale: TransactionView; state: ReversalState; taken?: { at: number | null; why: string } },
): Promise<void> {
  const { subscriptionId, sale, state } = r;
  const read = getSubscription(deps.store.db, subscriptionId) === undefined ? await readSubscription(deps.paypal, subscriptionId) : null;
  inEventTx(deps, event, (tx, now) => {
    const catalog = deps.tiers.current();
    // PayPal's list dates a sale, not its refund: the refund took back that sale's payment, so a payment that
    // completed after the sale (it lists them in order) keeps access, and none from before it does.
    // A chargeback brings its own time (the dispute's), which is later than the sale's.
    const at = Math.min(r.taken?.at ?? parseIso(sale.time) ?? now, now);
    const memberId = ensureStored(tx, deps.effects, read, subscriptionId, catalog, now, event.id, at);
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
    revokeSubscriptions(tx, deps.effects, [subscriptionId], r.taken?.why ?? `sale ${r.saleId} ${state.replace('_', ' ')}`, catalog, now, event.id, at);
  });
}

/** A subscription never stored is applied from PayPal's read first, already revoked, so the revocation has a row to stand on and nothing is granted on the way. Returns its member. */
function ensureStored(tx: Tx, effects: MemberEffects, read: SubscriptionRead | null, subscriptionId: string, catalog: TierCatalog, now: number, eventId: string, at: number): string | null {
  if (read !== null) applySubscription(tx, read, { catalog, effects, now, eventId, revokedAt: at });
  return getSubscription(tx, subscriptionId)?.memberId ?? null;
}

function recordSaleState(tx: Tx, sale: TransactionView, subscriptionId: string, memberId: string | null, state: ReversalState, eventId: string, now: number): void {
  if (getPayment(tx, sale.id) !== undefined) return setPaymentState(tx, sale.id, state, now);
  const gross = sale.amountWithBreakdown.grossAmount;
  insertPayment(tx, { id: sale.id, subscriptionId, memberId, amount: gross.value, currency: gross.currencyCode, state, paidAt: Math.min(parseIso(sale.time) ?? now, now), eventId }, now);
}
