import { envelopeSchema, routeEvent, type EventRoute } from '../core/webhook-event.ts';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { getWebhookEvent, markWebhookEvent } from '../store/inbox-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { applySubscription } from './apply-subscription.ts';
import { inEventTx, markOutcome } from './event-tx.ts';
import { confirmSale, revokeForDispute, revokeForReversal } from './payment-events.ts';
import { readSubscription, type PaypalReads } from './paypal-reads.ts';

export interface ProcessDeps {
  store: Store;
  paypal: PaypalReads;
  tiers: TiersSource;
  clock: () => number;
}

/**
 * Processes one stored webhook event: decide what it means, read PayPal
 * (every event is only a notification: subscriptions are re-read, sales,
 * refunds and disputes confirmed), then change state in ONE transaction
 * that also marks the event processed. Idempotent: a re-run after a crash
 * finds the event processed and does nothing. A PayPal failure throws (the
 * job retries); it never revokes anything.
 */
export async function processWebhookEvent(deps: ProcessDeps, eventId: string, log?: Logger): Promise<void> {
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
      return inEventTx(deps, event, (tx) => {
        markWebhookEvent(tx, event.id, 'ignored', route.why, deps.clock());
      });
    case 'subscription': {
      const read = await readSubscription(deps.paypal, route.subscriptionId);
      return inEventTx(deps, event, (tx, now) => {
        const r = applySubscription(tx, read, { catalog: deps.tiers.current(), now, eventId: event.id });
        markOutcome(tx, event.id, r.memberId, r.applied ? null : 'an older read of the subscription than the one stored', now);
      });
    }
    case 'sale-completed':
      return confirmSale(deps, event, route, log);
    case 'sale-reversal':
      return revokeForReversal(deps, event, route, log);
    case 'chargeback':
      return revokeForDispute(deps, event, route.disputeId, log);
  }
}
