import type { WebhookEventRow } from '../../store/inbox-repo.ts';
import { applySubscription } from '../apply-subscription.ts';
import { readSubscription } from '../paypal-reads.ts';
import { inEventTx, markOutcome } from './event-tx.ts';
import type { ProcessDeps, RouteOf } from './handler.ts';

/** BILLING.SUBSCRIPTION.*: fetch-on-notify, re-read the subscription the event names and apply PayPal's answer. */
export async function applySubscriptionEvent(deps: ProcessDeps, event: WebhookEventRow, route: RouteOf<'subscription'>): Promise<void> {
  const read = await readSubscription(deps.paypal, route.subscriptionId);
  inEventTx(deps, event, (tx, now) => {
    const r = applySubscription(tx, read, { catalog: deps.tiers.current(), effects: deps.effects, now, eventId: event.id });
    markOutcome(tx, event.id, r.memberId, r.applied ? null : 'an older read of the subscription than the one stored', now);
  });
}
