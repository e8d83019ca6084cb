import { desc, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from './db.ts';
import { webhookEvents } from './schema.ts';

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type InboxOutcome = 'pending' | 'processed' | 'ignored' | 'unlinked';

export interface NewWebhookEvent {
  id: string;
  eventType: string;
  resourceId: string | null;
  transmissionId: string;
  rawBody: string;
  receivedAt: number;
}

/**
 * The hot path of webhook ingest: a prepared insert (built once, not per
 * request). Returns true when the event is new, false for a redelivery.
 */
export function prepareInboxInsert(db: Db): (e: NewWebhookEvent) => boolean {
  const stmt = db
    .insert(webhookEvents)
    .values({
      id: sql.placeholder('id'),
      eventType: sql.placeholder('eventType'),
      resourceId: sql.placeholder('resourceId'),
      transmissionId: sql.placeholder('transmissionId'),
      rawBody: sql.placeholder('rawBody'),
      receivedAt: sql.placeholder('receivedAt'),
    })
    .onConflictDoNothing()
    .prepare();
  return (e) => stmt.run({ ...e }).changes === 1;
}

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
