import type { Store, Tx } from '../../store/db.ts';
import { getWebhookEvent, markWebhookEvent, type WebhookEventRow } from '../../store/inbox-repo.ts';

/** Runs `fn` in one transaction unless another worker finished the event meanwhile (checked inside the transaction). */
export function inEventTx(deps: { store: Store; clock: () => number }, event: WebhookEventRow, fn: (tx: Tx, now: number) => void): void {
  deps.store.transaction((tx) => {
    if (getWebhookEvent(tx, event.id)?.processedAt != null) return;
    fn(tx, deps.clock());
  });
}

/** An event about a subscription linked to nobody is kept as 'unlinked', so staff can find it. */
export function markOutcome(tx: Tx, eventId: string, memberId: string | null, note: string | null, now: number): void {
  if (memberId === null) markWebhookEvent(tx, eventId, 'unlinked', 'the subscription is not linked to a Discord member', now);
  else markWebhookEvent(tx, eventId, 'processed', note, now);
}
