import type Database from 'better-sqlite3';

/*
 * The webhook writer's SQL. It runs in the writer thread, which loads only
 * this module, the connection opener and the envelope check: keep it free of
 * drizzle and the schema module.
 */

export interface NewWebhookEvent {
  /** The caller's number for this submission, given back with its result (two deliveries of one event can share a batch). */
  seq: number;
  id: string;
  eventType: string;
  resourceId: string | null;
  transmissionId: string;
  rawBody: string;
  /** SHA-256 of rawBody (UTF-8). */
  bodySha256: Buffer;
  receivedAt: number;
}

/**
 * Per event: 'stored' (new), 'duplicate' (its event id, or this very
 * transmission, was stored before), 'replayed' (its transmission id was
 * accepted before with another body: a forged body under captured headers).
 */
export type IngestVerdict = 'stored' | 'duplicate' | 'replayed';

/** What became of one submitted event. */
export interface IngestBatchResult {
  seq: number;
  eventId: string;
  verdict: IngestVerdict;
}

/**
 * The job each new event is queued as: jobs/definitions.ts processWebhookJob's
 * kind and max attempts, passed in as plain values (this module runs in the
 * writer thread, which loads neither zod nor the definitions).
 */
export interface IngestJob {
  kind: string;
  maxAttempts: number;
}

/**
 * Webhook ingest's whole write, compiled once: each delivery's transmission
 * is remembered, each new event goes into the inbox together with its
 * process-webhook job, and a batch is ONE transaction (the caller's
 * connection decides durability: the ingest writer runs with
 * synchronous=FULL). A redelivered event (same PayPal id) stores nothing
 * new but its transmission, so those headers cannot carry another body
 * later. Returns one result per submitted event, in order.
 *
 * Plain better-sqlite3 statements rather than drizzle's prepared queries: on
 * this path, drizzle's per-call placeholder mapping cost more than the
 * inserts (measured in a CPU profile at 8,000 webhooks/s).
 */
export function prepareIngestBatch(sqlite: Database.Database, job: IngestJob): (events: readonly NewWebhookEvent[]) => IngestBatchResult[] {
  if (!Number.isInteger(job.maxAttempts) || job.maxAttempts < 1) throw new RangeError(`ingest job ${job.kind}: maxAttempts must be a positive integer, got ${job.maxAttempts}`);
  // Insert first: a new transmission (nearly every delivery) costs one statement; only a repeat reads the stored hash.
  const insertTransmission = sqlite.prepare('INSERT INTO webhook_transmissions (transmission_id, body_sha256, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
  const transmissionHash = sqlite.prepare('SELECT body_sha256 FROM webhook_transmissions WHERE transmission_id = ?').pluck();
  const insertEvent = sqlite.prepare(
    'INSERT INTO webhook_events (id, event_type, resource_id, transmission_id, raw_body, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  // No dedupe key: the inbox's primary key already makes the job unique, and a second
  // index entry per event (a random key) would add a page to every group commit.
  const insertJob = sqlite.prepare(
    "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?)",
  );
  const writeOne = (e: NewWebhookEvent): IngestVerdict => {
    if (insertTransmission.run(e.transmissionId, e.bodySha256, e.receivedAt).changes !== 1) {
      // Seen before (in an earlier commit or earlier in this batch): same bytes is PayPal retrying, other bytes a forgery.
      const stored: unknown = transmissionHash.get(e.transmissionId);
      return Buffer.isBuffer(stored) && stored.equals(e.bodySha256) ? 'duplicate' : 'replayed';
    }
    if (insertEvent.run(e.id, e.eventType, e.resourceId, e.transmissionId, e.rawBody, e.receivedAt).changes !== 1) return 'duplicate';
    insertJob.run(job.kind, JSON.stringify({ eventId: e.id }), job.maxAttempts, e.receivedAt, e.receivedAt, e.receivedAt);
    return 'stored';
  };
  const batch = sqlite.transaction((events: readonly NewWebhookEvent[]) => events.map((e): IngestBatchResult => ({ seq: e.seq, eventId: e.id, verdict: writeOne(e) })));
  // IMMEDIATE: take the write lock up front, so a busy database waits at BEGIN (busy_timeout) instead of failing at the first insert.
  return (events) => batch.immediate(events);
}
