import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { processWebhookJob } from '../../src/jobs/definitions.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { prepareIngestBatch, type NewWebhookEvent } from '../../src/store/ingest-batch.ts';

/** The webhook writer's SQL on a real (in-memory, migrated) database: one result per submitted event. */

const T0 = 1_700_000_000_000;
let store: Store;
afterEach(() => store.close());

function delivery(seq: number, id: string, transmissionId: string, text = `{"id":"${id}"}`): NewWebhookEvent {
  return { seq, id, eventType: 'BILLING.SUBSCRIPTION.ACTIVATED', resourceId: 'I-1', transmissionId, rawBody: text, bodySha256: createHash('sha256').update(text).digest(), receivedAt: T0 };
}

function write(events: NewWebhookEvent[]) {
  return prepareIngestBatch(store.sqlite, { kind: processWebhookJob.kind, maxAttempts: processWebhookJob.maxAttempts })(events);
}

const count = (sql: string, ...params: string[]) => store.sqlite.prepare(`SELECT count(*) FROM ${sql}`).pluck().get(...params);

describe('prepareIngestBatch', () => {
  it('answers each submission by its own number, also two deliveries of one event and a replay in one batch', () => {
    store = openStore(':memory:');
    const results = write([
      delivery(7, 'WH-1', 'T-1'),
      // PayPal redelivered WH-1 under a new transmission before the first was committed.
      delivery(3, 'WH-1', 'T-2'),
      delivery(9, 'WH-2', 'T-3'),
      // T-1's headers again with another body: a forged body under captured headers.
      delivery(4, 'WH-3', 'T-1', '{"id":"WH-3"}'),
      // T-3 again with the same bytes: PayPal retrying.
      delivery(5, 'WH-2', 'T-3'),
    ]);
    expect(results).toEqual([
      { seq: 7, eventId: 'WH-1', verdict: 'stored' },
      { seq: 3, eventId: 'WH-1', verdict: 'duplicate' },
      { seq: 9, eventId: 'WH-2', verdict: 'stored' },
      { seq: 4, eventId: 'WH-3', verdict: 'replayed' },
      { seq: 5, eventId: 'WH-2', verdict: 'duplicate' },
    ]);
    expect(count('webhook_events')).toBe(2);
    expect(count('jobs WHERE kind = ?', processWebhookJob.kind)).toBe(2);
  });

  it('stores nothing of a batch whose transaction fails', () => {
    store = openStore(':memory:');
    const broken = { ...delivery(1, 'WH-1', 'T-1'), receivedAt: null as unknown as number };
    expect(() => write([delivery(2, 'WH-2', 'T-2'), broken])).toThrow();
    expect(count('webhook_events')).toBe(0);
    expect(count('webhook_transmissions')).toBe(0);
  });
});
