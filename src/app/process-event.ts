import { envelopeSchema, routeEvent, type EventRoute } from '../core/webhook-event.ts';
import type { PaypalSubscriptionView } from '../core/subscription-state.ts';
import { parseIso } from '../core/time.ts';
import { ConciergeError } from '../errors.ts';
import type { Store, Tx } from '../store/db.ts';
import { getWebhookEvent, markWebhookEvent, type WebhookEventRow } from '../store/inbox-repo.ts';
import { getPayment, insertPayment, setPaymentState } from '../store/payment-repo.ts';
import { getSubscription, setSubscriptionRevoked } from '../store/subscription-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { applySubscription } from './apply-subscription.ts';
import { recordAudit } from './audit.ts';
import { recomputeMember } from './recompute-member.ts';

/** The one PayPal call event processing needs (fetch-on-notify). */
export interface SubscriptionReader {
  getSubscription(id: string): Promise<PaypalSubscriptionView & { id?: string }>;
}

export interface ProcessDeps {
  store: Store;
  paypal: SubscriptionReader;
  tiers: TiersSource;
  clock: () => number;
}

/**
 * Processes one stored webhook event: decide what it means, read PayPal where
 * the event is only a notification, then change state in ONE transaction that
 * also marks the event processed. Idempotent: a re-run after a crash finds the
 * event processed and does nothing. A PayPal failure throws (the job retries);
 * it never revokes anything.
 */
export async function processWebhookEvent(deps: ProcessDeps, eventId: string): Promise<void> {
  const event = getWebhookEvent(deps.store.db, eventId);
  if (event === undefined) throw new ConciergeError('event_missing', `webhook event ${eventId} is not in the inbox`, { retry: false });
  if (event.processedAt !== null) return;

  let body: unknown;
  try {
    body = JSON.parse(event.rawBody);
  } catch {
    body = null;
  }
  const envelope = envelopeSchema.safeParse(body);
  const route: EventRoute = envelope.success ? routeEvent(envelope.data) : { kind: 'ignored', why: 'body is not a PayPal event envelope' };

  switch (route.kind) {
    case 'ignored':
      return inTx(deps, event, (tx) => {
        markWebhookEvent(tx, event.id, 'ignored', route.why, deps.clock());
      });
    case 'subscription': {
      const sub = await deps.paypal.getSubscription(route.subscriptionId);
      return inTx(deps, event, (tx, now) => {
        const r = applySubscription(tx, { ...sub, id: route.subscriptionId }, { catalog: deps.tiers.current(), now, eventId: event.id });
        markOutcome(tx, event.id, r.memberId, r.applied ? null : 'an older read of the subscription than the one stored', now);
      });
    }
    case 'sale-completed': {
      const sub = await deps.paypal.getSubscription(route.subscriptionId);
      return inTx(deps, event, (tx, now) => {
        const paidAt = parseIso(route.paidAt) ?? now;
        const existing = getSubscription(tx, route.subscriptionId);
        const isNew = insertPayment(
          tx,
          { id: route.saleId, subscriptionId: route.subscriptionId, memberId: existing?.memberId ?? null, amount: route.amount, currency: route.currency, state: 'completed', paidAt, eventId: event.id },
          now,
        );
        // A refund's revocation stands until a later payment on the subscription completes.
        if (existing?.revokedAt != null && paidAt > existing.revokedAt) setSubscriptionRevoked(tx, existing.id, null, now);
        const r = applySubscription(tx, { ...sub, id: route.subscriptionId }, { catalog: deps.tiers.current(), now, eventId: event.id, paymentAt: paidAt });
        if (isNew) {
          recordAudit(
            tx,
            {
              kind: 'payment.recorded',
              severity: 'success',
              memberId: r.memberId,
              subscriptionId: route.subscriptionId,
              eventId: event.id,
              message: `${r.memberId === null ? 'Unlinked subscription' : `<@${r.memberId}>`} paid ${route.amount} ${route.currency} (sale ${route.saleId}, ${route.subscriptionId})`,
            },
            now,
          );
        }
        markOutcome(tx, event.id, r.memberId, null, now);
      });
    }
    case 'sale-reversal':
      return revokeForSales(deps, event, [route.saleId], route.subscriptionId, route.reason);
    case 'chargeback':
      return revokeForSales(deps, event, route.saleIds, null, 'disputed');
  }
}

function inTx(deps: ProcessDeps, event: WebhookEventRow, fn: (tx: Tx, now: number) => void): void {
  deps.store.transaction((tx) => {
    // Checked again inside the transaction: another worker may have finished it meanwhile.
    if (getWebhookEvent(tx, event.id)?.processedAt != null) return;
    fn(tx, deps.clock());
  });
}

function markOutcome(tx: Tx, eventId: string, memberId: string | null, staleNote: string | null, now: number): void {
  if (memberId === null) markWebhookEvent(tx, eventId, 'unlinked', 'the subscription is not linked to a Discord member', now);
  else markWebhookEvent(tx, eventId, 'processed', staleNote, now);
}

/**
 * Refunds, reversals and chargebacks revoke at once, even while PayPal still
 * reports the subscription ACTIVE. The sale must be known (or the event must
 * name its subscription); otherwise the job retries, since the sale's own
 * COMPLETED event may simply not have arrived yet.
 */
async function revokeForSales(deps: ProcessDeps, event: WebhookEventRow, saleIds: string[], namedSubscription: string | null, reason: 'refunded' | 'reversed' | 'disputed'): Promise<void> {
  const subscriptionIds = new Set<string>();
  for (const saleId of saleIds) {
    const sub = getPayment(deps.store.db, saleId)?.subscriptionId ?? namedSubscription;
    if (sub !== null) subscriptionIds.add(sub);
  }
  if (subscriptionIds.size === 0) {
    throw new ConciergeError('sale_unknown', `${event.eventType} ${event.id} names sale(s) ${saleIds.join(', ')} that Concierge has not recorded yet; retrying until the sale arrives`, { retry: true });
  }
  // A subscription we never stored is read from PayPal first, so the revocation has a row to stand on.
  const unknown = [...subscriptionIds].filter((id) => getSubscription(deps.store.db, id) === undefined);
  const fetched = await Promise.all(unknown.map(async (id) => ({ ...(await deps.paypal.getSubscription(id)), id })));

  inTx(deps, event, (tx, now) => {
    const catalog = deps.tiers.current();
    for (const view of fetched) applySubscription(tx, view, { catalog, now, eventId: event.id });
    for (const saleId of saleIds) if (getPayment(tx, saleId) !== undefined) setPaymentState(tx, saleId, reason, now);
    const members = new Set<string>();
    for (const id of subscriptionIds) {
      setSubscriptionRevoked(tx, id, { at: now, reason: `sale ${saleIds.join(', ')} ${reason}` }, now);
      const memberId = getSubscription(tx, id)?.memberId ?? null;
      recordAudit(
        tx,
        {
          kind: 'subscription.revoked',
          severity: 'danger',
          memberId,
          subscriptionId: id,
          eventId: event.id,
          message: `${memberId === null ? 'Unlinked subscription' : `<@${memberId}>`} access revoked: sale ${saleIds.join(', ')} ${reason} (${id})`,
        },
        now,
      );
      if (memberId !== null) members.add(memberId);
    }
    for (const memberId of members) recomputeMember(tx, memberId, catalog, now, { reason: `sale ${reason}`, eventId: event.id });
    markWebhookEvent(tx, event.id, members.size > 0 ? 'processed' : 'unlinked', `revoked ${[...subscriptionIds].join(', ')}`, now);
  });
}
