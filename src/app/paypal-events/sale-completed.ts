import { addInterval, parseIso } from '../../core/time.ts';
import type { TierCatalog } from '../../core/tiers.ts';
import type { Logger } from '../../log.ts';
import type { Tx } from '../../store/db.ts';
import type { WebhookEventRow } from '../../store/inbox-repo.ts';
import { getPayment, insertPayment } from '../../store/payment-repo.ts';
import { getSubscription, type SubscriptionRow } from '../../store/subscription-repo.ts';
import { applySubscription } from '../apply-subscription.ts';
import { recordAudit } from '../audit.ts';
import { readSubscription, type TransactionView } from '../paypal-reads.ts';
import { inEventTx, markOutcome } from './event-tx.ts';
import { withFallbackPrices } from './fallback-prices.ts';
import { findTransaction } from './find-transaction.ts';
import type { ProcessDeps, RouteOf } from './handler.ts';
import { applyReversal, reversalStateOf } from './sale-reversal.ts';
import { recordUnconfirmed } from './unconfirmed.ts';

/** Transaction statuses of a sale that was paid (a partial refund leaves the rest paid). */
const PAID: ReadonlySet<string> = new Set(['COMPLETED', 'PARTIALLY_REFUNDED']);

type PaidFor = { plan: { planId: string; intervalUnit: string; intervalCount: number }; coversUntil: number };

/**
 * PAYMENT.SALE.COMPLETED: nothing in the body is believed. The sale is looked
 * up in its subscription's transaction list at PayPal; once PayPal lists it
 * paid, the payment is recorded (amount and time as PayPal reports them, time
 * capped at now) and the subscription re-read and applied with it.
 */
export async function confirmSale(deps: ProcessDeps, event: WebhookEventRow, route: RouteOf<'sale-completed'>, log: Logger | undefined): Promise<void> {
  const stored = getPayment(deps.store.db, route.saleId);
  const sale = await findTransaction(deps, route.subscriptionId, route.saleId, [parseIso(route.sentAt), stored?.paidAt ?? null]);
  // Paid, then refunded or reversed before this event was processed: not a forgery but a payment taken back, and
  // its own REFUNDED/REVERSED event finds the sale only once it is recorded. So record it and revoke now.
  const takenBack = sale !== null && PAID.has(sale.status ?? '') === false ? reversalStateOf(sale.status) : undefined;
  if (sale !== null && takenBack !== undefined) return applyReversal(deps, event, { subscriptionId: route.subscriptionId, saleId: route.saleId, sale, state: takenBack });
  if (sale === null || !PAID.has(sale.status ?? '')) {
    return recordUnconfirmed(deps, event, `sale ${route.saleId} is not a completed payment of ${route.subscriptionId} at PayPal (${sale?.status ?? 'not found'})`, log, route.subscriptionId);
  }
  const gross = sale.amountWithBreakdown.grossAmount;
  const evidence = { value: gross.value, currency: gross.currencyCode, at: parseIso(sale.time) ?? deps.clock() };
  const read = await withFallbackPrices(deps, await readSubscription(deps.paypal, route.subscriptionId), deps.tiers.current(), evidence);
  inEventTx(deps, event, (tx, now) => {
    const payment = { ...evidence, at: Math.min(evidence.at, now) };
    // A refund's revocation is lifted by applySubscription once a later payment counts for a plan.
    const catalog = deps.tiers.current();
    const r = applySubscription(tx, read, { catalog, effects: deps.effects, now, eventId: event.id, payment });
    const paidFor = (r.applied ? r.payment : null) ?? countedEarlier(getSubscription(tx, route.subscriptionId), payment.at);
    recordSale(tx, { sale, route, memberId: r.memberId, payment, paidFor, catalog, eventId: event.id }, now);
    markOutcome(tx, event.id, r.memberId, null, now);
  });
}

/** Inserts the payment row (with the plan it paid for) and, the first time, its audit entry. */
function recordSale(
  tx: Tx,
  s: { sale: TransactionView; route: RouteOf<'sale-completed'>; memberId: string | null; payment: { value: string; currency: string; at: number }; paidFor: PaidFor | null; catalog: TierCatalog; eventId: string },
  now: number,
): void {
  const { route, memberId, payment, paidFor } = s;
  const isNew = insertPayment(
    tx,
    {
      id: route.saleId,
      subscriptionId: route.subscriptionId,
      memberId,
      amount: payment.value,
      currency: payment.currency,
      state: s.sale.status === 'PARTIALLY_REFUNDED' ? 'partially_refunded' : 'completed',
      paidAt: payment.at,
      eventId: s.eventId,
      planId: paidFor?.plan.planId ?? null,
      tierKey: paidFor === null ? null : (s.catalog.byPlan(paidFor.plan.planId)?.key ?? null),
      intervalUnit: paidFor?.plan.intervalUnit ?? null,
      intervalCount: paidFor?.plan.intervalCount ?? null,
      coversUntil: paidFor?.coversUntil ?? null,
    },
    now,
  );
  if (!isNew) return;
  recordAudit(
    tx,
    {
      kind: 'payment.recorded',
      severity: 'success',
      memberId,
      subscriptionId: route.subscriptionId,
      eventId: s.eventId,
      message: `${memberId === null ? 'Unlinked subscription' : `<@${memberId}>`} paid ${payment.value} ${payment.currency} (sale ${route.saleId}, ${route.subscriptionId})`,
    },
    now,
  );
}

/**
 * What a payment paid for when it was already counted from billing_info.last_payment (the same payment, read
 * first through a subscription event): the row's paid plan, if its period is exactly the one that payment
 * bought (an interval from it, or an instant upgrade's fee period). A payment that reached no price moved only
 * last_payment_at, so it matches no period and is recorded as paying for nothing.
 */
function countedEarlier(row: SubscriptionRow | undefined, at: number): PaidFor | null {
  if (row?.lastPaymentAt !== at || row.paidPlanId === null || row.paidUntil === null || row.intervalUnit === null) return null;
  const plan = { planId: row.paidPlanId, intervalUnit: row.intervalUnit, intervalCount: row.intervalCount ?? 1 };
  const ownPeriod = addInterval(at, plan.intervalUnit, plan.intervalCount) === row.paidUntil || (row.upgradeUntil !== null && row.upgradeUntil === row.paidUntil);
  return ownPeriod ? { plan, coversUntil: row.paidUntil } : null;
}
