import type { Logger } from '../../log.ts';
import { markWebhookEvent, type WebhookEventRow } from '../../store/inbox-repo.ts';
import { revokeForDispute } from './dispute.ts';
import { inEventTx } from './event-tx.ts';
import type { EventHandler, ProcessDeps, RouteKind, RouteOf } from './handler.ts';
import { confirmSale } from './sale-completed.ts';
import { revokeForReversal } from './sale-reversal.ts';
import { applySubscriptionEvent } from './subscription.ts';

export type { ProcessDeps } from './handler.ts';

/** An event Concierge does not use (or a malformed one of a type it does): kept in the inbox, marked ignored with the reason. */
async function markIgnored(deps: ProcessDeps, event: WebhookEventRow, route: RouteOf<'ignored'>): Promise<void> {
  inEventTx(deps, event, (tx, now) => markWebhookEvent(tx, event.id, 'ignored', route.why, now));
}

/**
 * One handler per kind of PayPal event. Keyed by the route core/webhook-event.ts
 * routeEvent gives an event type, not by the type itself: two families go by
 * prefix (BILLING.SUBSCRIPTION.*, CUSTOMER.DISPUTE.*), and an unknown type is
 * routed 'ignored'. A kind without a handler is a type error here.
 */
const PAYPAL_EVENT_HANDLERS: { readonly [K in RouteKind]: EventHandler<K> } = {
  subscription: applySubscriptionEvent,
  'sale-completed': confirmSale,
  'sale-reversal': revokeForReversal,
  chargeback: revokeForDispute,
  ignored: markIgnored,
};

/** Runs the handler of the route's kind. */
export function handlePaypalEvent<K extends RouteKind>(deps: ProcessDeps, event: WebhookEventRow, kind: K, route: RouteOf<K>, log: Logger | undefined): Promise<void> {
  return PAYPAL_EVENT_HANDLERS[kind](deps, event, route, log);
}
