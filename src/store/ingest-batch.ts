import type Database from 'better-sqlite3';

/*
 * The webhook writer's SQL. It runs in the writer thread, which loads only
 * this module, the connection opener and the envelope check: keep it free of
 * drizzle and the schema module.
 */

export interface NewWebhookEvent {
  id: string;
  eventType: string;
  resourceId: string | null;
  transmissionId: string;
  rawBody: string;
  receivedAt: number;
}

/** A process-webhook job's max attempts: PayPal may be down for a while, so retry for about a day (backoff caps at 15 min). */
export const PROCESS_WEBHOOK_MAX_ATTEMPTS = 100;

/**
 * Webhook ingest's whole write, compiled once: each new event goes into the
 * inbox together with its process-webhook job, and a batch is ONE
 * transaction (the caller's connection decides durability: the ingest writer
 * runs with synchronous=FULL). A redelivered event (same PayPal id) changes
 * nothing. Returns, per event, whether it was new.
 *
 * Plain better-sqlite3 statements rather than drizzle's prepared queries: on
 * this path, drizzle's per-call placeholder mapping cost more than the
 * inserts (measured in a CPU profile at 8,000 webhooks/s).
 */
export function prepareIngestBatch(sqlite: Database.Database): (events: readonly NewWebhookEvent[]) => boolean[] {
  const insertEvent = sqlite.prepare(
    'INSERT INTO webhook_events (id, event_type, resource_id, transmission_id, raw_body, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  // No dedupe key: the inbox's primary key already makes the job unique, and a second
  // index entry per event (a random key) would add a page to every group commit.
  const insertJob = sqlite.prepare(
    `INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES ('process-webhook', ?, 'queued', 0, ${PROCESS_WEBHOOK_MAX_ATTEMPTS}, ?, ?, ?)`,
  );
  const batch = sqlite.transaction((events: readonly NewWebhookEvent[]) =>
    events.map((e) => {
      if (insertEvent.run(e.id, e.eventType, e.resourceId, e.transmissionId, e.rawBody, e.receivedAt).changes !== 1) return false;
      insertJob.run(JSON.stringify({ eventId: e.id }), e.receivedAt, e.receivedAt, e.receivedAt);
      return true;
    }),
  );
  // IMMEDIATE: take the write lock up front, so a busy database waits at BEGIN (busy_timeout) instead of failing at the first insert.
  return (events) => batch.immediate(events);
}
