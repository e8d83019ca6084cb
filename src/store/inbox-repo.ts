import { desc, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from './db.ts';
import { jobs, webhookEvents } from './schema.ts';

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

/** A process-webhook job's max attempts: PayPal may be down for a while, so retry for about a day (backoff caps at 15 min). */
export const PROCESS_WEBHOOK_MAX_ATTEMPTS = 100;

/**
 * Webhook ingest's whole write, as prepared statements: each new event goes
 * into the inbox together with its process-webhook job. The caller wraps a
 * batch in one durable transaction. A redelivered event (same PayPal id)
 * changes nothing. Returns, per event, whether it was new.
 */
export function prepareIngestBatch(db: Db): (events: readonly Omit<NewWebhookEvent, 'receivedAt'>[], now: number) => boolean[] {
  const insertEvent = prepareInboxInsert(db);
  const insertJob = db
    .insert(jobs)
    .values({
      kind: 'process-webhook',
      payload: sql.placeholder('payload'),
      status: 'queued',
      attempts: 0,
      maxAttempts: PROCESS_WEBHOOK_MAX_ATTEMPTS,
      runAt: sql.placeholder('now'),
      createdAt: sql.placeholder('now'),
      updatedAt: sql.placeholder('now'),
    })
    .prepare();
  return (events, now) =>
    events.map((e) => {
      if (!insertEvent({ ...e, receivedAt: now })) return false;
      // No dedupe key: the inbox's primary key already makes the job unique, and a second
      // index entry per event (a random key) would add a page to every group commit.
      insertJob.run({ payload: JSON.stringify({ eventId: e.id }), now });
      return true;
    });
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
