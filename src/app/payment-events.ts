import { addInterval, DAY_MS, parseIso } from '../core/time.ts';
import type { TierCatalog } from '../core/tiers.ts';
import type { EventRoute } from '../core/webhook-event.ts';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Tx } from '../store/db.ts';
import { markWebhookEvent, type WebhookEventRow } from '../store/inbox-repo.ts';
import { getPayment, insertPayment, setPaymentState, type PaymentState } from '../store/payment-repo.ts';
import { getSubscription, setSubscriptionRevoked, type SubscriptionRow } from '../store/subscription-repo.ts';
import { applySubscription, type SubscriptionRead } from './apply-subscription.ts';
import { recordAudit } from './audit.ts';
import { isNotFound, readSubscription, type TransactionView } from './paypal-reads.ts';
import { inEventTx, markOutcome } from './event-tx.ts';
import type { ProcessDeps } from './process-event.ts';
import { recomputeMember } from './recompute-member.ts';

/**
 * PAYMENT.SALE.* and CUSTOMER.DISPUTE.* events are notifications too (SPEC
 * "Payment events are notifications too"): a signed body proves only that
 * PayPal sent it once, and CRC32 lets a captured delivery be bent. So nothing
 * in the body is believed: the sale is looked up in its subscription's
 * transaction list at PayPal, the dispute is read from PayPal, and only what
 * PayPal reports (status, amount, time capped at now) changes anything. An
 * event PayPal does not bear out changes nothing and leaves one security
 * audit entry per minute at most.
 */

/** Transaction statuses of a sale that was paid (a partial refund leaves the rest paid). */
const PAID: ReadonlySet<string> = new Set(['COMPLETED', 'PARTIALLY_REFUNDED']);
type ReversalState = Exclude<PaymentState, 'completed'>;
const REVERSAL_STATE: Readonly<Record<string, ReversalState>> = { REFUNDED: 'refunded', PARTIALLY_REFUNDED: 'partially_refunded', REVERSED: 'reversed' };
/** How far before the event's own date to look for its sale (PayPal redelivers for 3 days); never more than ~13 months back. */
const SEARCH_SLACK_MS = 4 * DAY_MS;
const SEARCH_MAX_MS = 400 * DAY_MS;

type SaleRoute = Extract<EventRoute, { kind: 'sale-completed' }>;
type ReversalRoute = Extract<EventRoute, { kind: 'sale-reversal' }>;

/**
 * The time range to search a subscription's transactions for a sale: from a
 * little before the earliest hint (the event's date, the sale as stored) to
 * now. A wrong hint only makes the sale not found, which changes nothing.
 */
function searchWindow(hints: readonly (number | null)[], now: number): { start: Date; end: Date } {
  const valid = hints.filter((t): t is number => t !== null && t <= now && t > now - SEARCH_MAX_MS);
  const from = valid.length > 0 ? Math.min(...valid) - SEARCH_SLACK_MS : now - SEARCH_MAX_MS;
  return { start: new Date(Math.max(from, now - SEARCH_MAX_MS)), end: new Date(now) };
}

async function findTransaction(deps: ProcessDeps, subscriptionId: string, saleId: string, hints: readonly (number | null)[]): Promise<TransactionView | null> {
  const w = searchWindow(hints, deps.clock());
  try {
    const list = await deps.paypal.listTransactions(subscriptionId, w.start, w.end);
    return list.find((t) => t.id === saleId) ?? null;
  } catch (err) {
    if (isNotFound(err)) return null; // PayPal knows no such subscription: nothing to confirm
    throw err;
  }
}

function unconfirmed(deps: ProcessDeps, event: WebhookEventRow, detail: string, log: Logger | undefined, subscriptionId: string | null): void {
  log?.warn({ eventId: event.id, eventType: event.eventType, detail }, 'signed PayPal event not confirmed by PayPal; nothing changed');
  inEventTx(deps, event, (tx, now) => {
    markWebhookEvent(tx, event.id, 'unconfirmed', detail, now);
    recordAudit(
      tx,
      {
        kind: 'security.unconfirmed_event',
        severity: 'danger',
        subscriptionId,
        eventId: event.id,
        message: `A signed ${event.eventType} (${event.id}) is not borne out by PayPal: ${detail}. Nothing changed. Repeats within the minute are only logged.`,
        // One entry per minute at most, across restarts: a flood of replayed deliveries cannot flood the channel.
        dedupeKey: `security.unconfirmed:${Math.floor(now / 60_000)}`,
      },
      now,
    );
  });
}

export async function confirmSale(deps: ProcessDeps, event: WebhookEventRow, route: SaleRoute, log?: Logger): Promise<void> {
  const stored = getPayment(deps.store.db, route.saleId);
  const sale = await findTransaction(deps, route.subscriptionId, route.saleId, [parseIso(route.sentAt), stored?.paidAt ?? null]);
  if (sale === null || !PAID.has(sale.status ?? '')) {
    return unconfirmed(deps, event, `sale ${route.saleId} is not a completed payment of ${route.subscriptionId} at PayPal (${sale?.status ?? 'not found'})`, log, route.subscriptionId);
  }
  const read = await readSubscription(deps.paypal, route.subscriptionId);
  inEventTx(deps, event, (tx, now) => {
    const gross = sale.amountWithBreakdown.grossAmount;
    const payment = { value: gross.value, currency: gross.currencyCode, at: Math.min(parseIso(sale.time) ?? now, now) };
    const existing = getSubscription(tx, route.subscriptionId);
    // A refund's revocation stands until a later payment on the subscription completes.
    if (existing?.revokedAt != null && payment.at > existing.revokedAt) setSubscriptionRevoked(tx, existing.id, null, now);
    const r = applySubscription(tx, read, { catalog: deps.tiers.current(), now, eventId: event.id, payment });
    const paidFor = (r.applied ? r.payment : null) ?? countedEarlier(getSubscription(tx, route.subscriptionId), payment.at);
    const isNew = insertPayment(
      tx,
      {
        id: route.saleId,
        subscriptionId: route.subscriptionId,
        memberId: r.memberId,
        amount: payment.value,
        currency: payment.currency,
        state: sale.status === 'PARTIALLY_REFUNDED' ? 'partially_refunded' : 'completed',
        paidAt: payment.at,
        eventId: event.id,
        planId: paidFor?.plan.planId ?? null,
        tierKey: paidFor === null ? null : (deps.tiers.current().byPlan(paidFor.plan.planId)?.key ?? null),
        intervalUnit: paidFor?.plan.intervalUnit ?? null,
        intervalCount: paidFor?.plan.intervalCount ?? null,
        coversUntil: paidFor?.coversUntil ?? null,
      },
      now,
    );
    if (isNew) {
      recordAudit(
        tx,
        {
          kind: 'payment.recorded',
          severity: 'success',
          memberId: r.memberId,
          subscriptionId: route.subscriptionId,
          eventId: event.id,
          message: `${r.memberId === null ? 'Unlinked subscription' : `<@${r.memberId}>`} paid ${payment.value} ${payment.currency} (sale ${route.saleId}, ${route.subscriptionId})`,
        },
        now,
      );
    }
    markOutcome(tx, event.id, r.memberId, null, now);
  });
}

/**
 * Refunds and reversals revoke at once, even while PayPal still reports the
 * subscription ACTIVE, once PayPal's transaction list shows the sale so. A
 * sale Concierge never recorded is looked up under the subscription the
 * event names; with neither, the job retries (the sale's own event may not
 * have arrived yet).
 */
export async function revokeForReversal(deps: ProcessDeps, event: WebhookEventRow, route: ReversalRoute, log?: Logger): Promise<void> {
  const stored = getPayment(deps.store.db, route.saleId);
  const subscriptionId = stored?.subscriptionId ?? route.subscriptionId;
  if (subscriptionId === null) {
    throw new ConciergeError('sale_unknown', `${event.eventType} ${event.id} names sale ${route.saleId}, which Concierge has not recorded yet; retrying until the sale arrives`, { retry: true });
  }
  const sale = await findTransaction(deps, subscriptionId, route.saleId, [parseIso(route.sentAt), stored?.paidAt ?? null]);
  const state = sale === null ? undefined : REVERSAL_STATE[sale.status ?? ''];
  if (sale === null || state === undefined) {
    return unconfirmed(deps, event, `sale ${route.saleId} of ${subscriptionId} is ${sale?.status ?? 'not found'} at PayPal, not refunded or reversed`, log, subscriptionId);
  }
  const read = getSubscription(deps.store.db, subscriptionId) === undefined ? await readSubscription(deps.paypal, subscriptionId) : null;
  inEventTx(deps, event, (tx, now) => {
    const catalog = deps.tiers.current();
    const memberId = ensureStored(tx, read, subscriptionId, catalog, now, event.id);
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
          message: `${memberId === null ? 'Unlinked subscription' : `<@${memberId}>`}: sale ${route.saleId} partly refunded (${subscriptionId}); access kept (policy on_partial_refund: keep)`,
        },
        now,
      );
      markOutcome(tx, event.id, memberId, 'partial refund; access kept by policy', now);
      return;
    }
    revokeSubscriptions(tx, [subscriptionId], `sale ${route.saleId} ${state.replace('_', ' ')}`, catalog, now, event.id);
  });
}

/** A dispute counts once PayPal reports it at chargeback stage; the sales come from PayPal's dispute, not the body. */
export async function revokeForDispute(deps: ProcessDeps, event: WebhookEventRow, disputeId: string, log?: Logger): Promise<void> {
  let dispute;
  try {
    dispute = await deps.paypal.getDispute(disputeId);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return unconfirmed(deps, event, `PayPal knows no dispute ${disputeId}`, log, null);
  }
  if (dispute.stage !== 'CHARGEBACK') return unconfirmed(deps, event, `dispute ${disputeId} is at stage ${dispute.stage ?? 'unknown'} at PayPal, not chargeback`, log, null);
  const known = dispute.saleIds.map((id) => getPayment(deps.store.db, id)).filter((p) => p !== undefined);
  if (known.length === 0) {
    throw new ConciergeError('sale_unknown', `dispute ${disputeId} names sale(s) ${dispute.saleIds.join(', ') || '(none)'} that Concierge has not recorded yet; retrying until the sale arrives`, { retry: true });
  }
  inEventTx(deps, event, (tx, now) => {
    for (const p of known) setPaymentState(tx, p.id, 'disputed', now);
    const subscriptions = [...new Set(known.map((p) => p.subscriptionId))];
    revokeSubscriptions(tx, subscriptions, `sale ${known.map((p) => p.id).join(', ')} charged back (dispute ${disputeId})`, deps.tiers.current(), now, event.id);
  });
}

/**
 * What a payment paid for when it was already counted from billing_info.last_payment (the same payment, read
 * first through a subscription event): the row's paid plan, if its period is exactly the one that payment
 * bought (an interval from it, or an instant upgrade's fee period). A payment that reached no price moved only
 * last_payment_at, so it matches no period and is recorded as paying for nothing.
 */
function countedEarlier(row: SubscriptionRow | undefined, at: number): { plan: { planId: string; intervalUnit: string; intervalCount: number }; coversUntil: number } | null {
  if (row?.lastPaymentAt !== at || row.paidPlanId === null || row.paidUntil === null || row.intervalUnit === null) return null;
  const plan = { planId: row.paidPlanId, intervalUnit: row.intervalUnit, intervalCount: row.intervalCount ?? 1 };
  const ownPeriod = addInterval(at, plan.intervalUnit, plan.intervalCount) === row.paidUntil || (row.upgradeUntil !== null && row.upgradeUntil === row.paidUntil);
  return ownPeriod ? { plan, coversUntil: row.paidUntil } : null;
}

/** A subscription never stored is applied from PayPal's read first, so the revocation has a row to stand on. Returns its member. */
function ensureStored(tx: Tx, read: SubscriptionRead | null, subscriptionId: string, catalog: TierCatalog, now: number, eventId: string): string | null {
  if (read !== null) applySubscription(tx, read, { catalog, now, eventId });
  return getSubscription(tx, subscriptionId)?.memberId ?? null;
}

function recordSaleState(tx: Tx, sale: TransactionView, subscriptionId: string, memberId: string | null, state: ReversalState, eventId: string, now: number): void {
  if (getPayment(tx, sale.id) !== undefined) return setPaymentState(tx, sale.id, state, now);
  const gross = sale.amountWithBreakdown.grossAmount;
  insertPayment(tx, { id: sale.id, subscriptionId, memberId, amount: gross.value, currency: gross.currencyCode, state, paidAt: Math.min(parseIso(sale.time) ?? now, now), eventId }, now);
}

function revokeSubscriptions(tx: Tx, subscriptionIds: readonly string[], why: string, catalog: TierCatalog, now: number, eventId: string): void {
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
  for (const memberId of members) recomputeMember(tx, memberId, catalog, now, { reason: why, eventId });
  markWebhookEvent(tx, eventId, members.size > 0 ? 'processed' : 'unlinked', `revoked ${subscriptionIds.join(', ')}`, now);
}
