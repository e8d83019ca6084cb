import type { Logger } from '../../log.ts';
import { markWebhookEvent, type WebhookEventRow } from '../../store/inbox-repo.ts';
import { recordAudit } from '../audit.ts';
import { inEventTx } from './event-tx.ts';
import type { ProcessDeps } from './handler.ts';

/**
 * PAYMENT.SALE.* and CUSTOMER.DISPUTE.* events are notifications too (SPEC
 * "Payment events are notifications too"): a signed body proves only that
 * PayPal sent it once, and CRC32 lets a captured delivery be bent. An event
 * PayPal does not bear out changes nothing and leaves one security audit
 * entry per minute at most.
 */
export function recordUnconfirmed(deps: ProcessDeps, event: WebhookEventRow, detail: string, log: Logger | undefined, subscriptionId: string | null): void {
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
