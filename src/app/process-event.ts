import { parseEnvelope, routeEvent, type EventRoute } from '../core/webhook-event.ts';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { getWebhookEvent } from '../store/inbox-repo.ts';
import { handlePaypalEvent, type ProcessDeps } from './paypal-events/index.ts';

export type { ProcessDeps } from './paypal-events/index.ts';

/**
 * Processes one stored webhook event: decide what it means, read PayPal
 * (every event is only a notification: subscriptions are re-read, sales,
 * refunds and disputes confirmed), then change state in ONE transaction
 * that also marks the event processed (one handler per kind of event, in
 * paypal-events/). Idempotent: a re-run after a crash finds the event
 * processed and does nothing. A PayPal failure throws (the job retries); it
 * never revokes anything.
 */
export async function processWebhookEvent(deps: ProcessDeps, eventId: string, log?: Logger): Promise<void> {
  const event = getWebhookEvent(deps.store.db, eventId);
  if (event === undefined) throw new ConciergeError('event_missing', `webhook event ${eventId} is not in the inbox`, { retry: false });
  if (event.processedAt !== null) return;
  // Events stored before the writer's check matched the schema may not parse: they are ignored, as before.
  const envelope = parseEnvelope(event.rawBody);
  const route: EventRoute = envelope !== null ? routeEvent(envelope) : { kind: 'ignored', why: 'body is not a PayPal event envelope' };
  return handlePaypalEvent(deps, event, route.kind, route, log);
}
