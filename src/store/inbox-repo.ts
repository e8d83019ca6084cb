import { desc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { webhookEvents } from './schema.ts';

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
/** 'unconfirmed': a validly signed payment or dispute event that PayPal's own records do not bear out; nothing changed. */
export type InboxOutcome = 'pending' | 'processed' | 'ignored' | 'unlinked' | 'unconfirmed';

export function getWebhookEvent(db: DbOrTx, id: string): WebhookEventRow | undefined {
  return db.select().from(webhookEvents).where(eq(webhookEvents.id, id)).get();
}

export function markWebhookEvent(db: DbOrTx, id: string, outcome: Exclude<InboxOutcome, 'pending'>, detail: string | null, now: number): void {
  db.update(webhookEvents).set({ outcome, detail, processedAt: now }).where(eq(webhookEvents.id, id)).run();
}

/** Time the newest verified webhook arrived, for /readyz. */
export function lastWebhookReceivedAt(db: DbOrTx): number | null {
  const row = db.select({ at: webhookEvents.receivedAt }).from(webhookEvents).orderBy(desc(webhookEvents.receivedAt)).limit(1).get();
  return row?.at ?? null;
}

/** Which of these event ids the inbox holds already (the backfill ingests only the others). */
export function listKnownEventIds(db: DbOrTx, ids: readonly string[]): Set<string> {
  const known = new Set<string>();
  // SQLite's variable limit: look up in slices.
  for (let i = 0; i < ids.length; i += 500) {
    const rows = db.select({ id: webhookEvents.id }).from(webhookEvents).where(inArray(webhookEvents.id, ids.slice(i, i + 500))).all();
    for (const r of rows) known.add(r.id);
  }
  return known;
}

/**
 * Makes a stored event pending again, so its next process-webhook job
 * processes it anew (`concierge replay`); the previous outcome goes into the
 * detail. False when the event is not in the inbox.
 */
export function markWebhookEventForReplay(db: DbOrTx, id: string, detail: string): boolean {
  return db.update(webhookEvents).set({ outcome: 'pending', processedAt: null, detail }).where(eq(webhookEvents.id, id)).run().changes > 0;
}
