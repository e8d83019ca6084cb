import type { IngestJob } from '../store/ingest-batch.ts';

/**
 * Messages between the service and its webhook writer thread
 * (ingest/writer-thread.ts). Plain data: they cross a thread by structured clone.
 */

export interface WriterData {
  databasePath: string;
  /** processWebhookJob's kind and max attempts (the writer thread does not load jobs/definitions.ts). */
  job: IngestJob;
}

/** One verified delivery, as the HTTP route received it. */
export interface IngestRequest {
  seq: number;
  /** The verified raw body (UTF-8): parsed in the writer, stored as is. */
  text: string;
  transmissionId: string;
  /** Service clock at arrival: the inbox's received_at and the job's run_at. */
  receivedAt: number;
}

/** 'replayed': the transmission id was accepted before with another body (see store/ingest-batch.ts). */
export type IngestOutcome = 'stored' | 'duplicate' | 'invalid' | 'replayed';

export interface IngestResult {
  seq: number;
  /** 'failed': the group's transaction did not commit (error names why); nothing of it is stored. */
  outcome: IngestOutcome | 'failed';
  eventId: string | null;
  /** PayPal's event_type, for metrics; null when the body was not an event envelope. */
  eventType: string | null;
}

export type ToWriter = { type: 'ingest'; events: IngestRequest[] } | { type: 'close' };

export type FromWriter =
  | { type: 'ready' }
  /** The writer could not open the database; it exits after sending this. */
  | { type: 'fatal'; message: string }
  | { type: 'results'; results: IngestResult[]; error: string | null };
