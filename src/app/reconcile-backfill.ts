import { createHash } from 'node:crypto';
import { readIngestFields } from '../core/ingest-fields.ts';
import { backfillWindow } from '../core/reconcile.ts';
import { parseEnvelope, routeEvent } from '../core/webhook-event.ts';
import { processWebhookJob } from '../jobs/definitions.ts';
import { signalJobQueued } from '../store/db.ts';
import { listKnownEventIds } from '../store/inbox-repo.ts';
import { prepareIngestBatch, type NewWebhookEvent } from '../store/ingest-batch.ts';
import { getSyncState, setSyncState } from '../store/sync-state-repo.ts';
import { ReconcileStopped, type RunContext } from './reconcile-run.ts';

/**
 * Check (b), webhook backfill: PayPal's list of the events it sent since the
 * newest one seen, paged; each one Concierge acts on that the inbox does not
 * hold is ingested as if it had been delivered (inbox row and processing job in one transaction,
 * the webhook writer's own statements), so processing re-reads PayPal for it
 * like for any webhook. Events come from PayPal's authenticated API, so there
 * is no signature to check; the transmission id marks them as backfilled.
 */

/** One event of PayPal's list, as its events API returns it (src/paypal/webhook-events.ts implements it). */
export interface ListedEventView {
  id: string;
  eventType: string;
  createdAt: number | null;
  body: Record<string, unknown>;
}

/** PayPal's event list (src/paypal/client.ts implements it). */
export interface WebhookEventSource {
  listWebhookEvents(page: { start: Date; end: Date; pageSize: number } | { next: string }): Promise<{ events: ListedEventView[]; next: string | null }>;
}

/** sync_state key: create_time (ms) of the newest PayPal event a completed backfill listed. */
export const NEWEST_EVENT_KEY = 'paypal.last_event_time';
const PAGE_SIZE = 100;
/** 1,000 pages of 100 is far beyond a month of a community's events: more means a paging loop. */
const MAX_PAGES = 1_000;

export async function backfillEvents(run: RunContext, paypal: WebhookEventSource): Promise<void> {
  const { store, clock } = run.base;
  const stored = getSyncState(store.db, NEWEST_EVENT_KEY);
  const window = backfillWindow(stored === null ? null : Number(stored), clock());
  let newest = stored === null ? null : Number(stored);
  let listed = 0;
  let page = await run.callPaypal('list webhook events', () => paypal.listWebhookEvents({ start: new Date(window.start), end: new Date(window.end), pageSize: PAGE_SIZE }));
  for (let n = 1; ; n++) {
    listed += page.events.length;
    run.report.checked.events = listed;
    run.progress('events', listed, null);
    ingestMissing(run, page.events);
    for (const e of page.events) if (e.createdAt !== null && (newest === null || e.createdAt > newest)) newest = e.createdAt;
    const next = page.next;
    if (next === null) break;
    if (n >= MAX_PAGES) throw new ReconcileStopped(`PayPal's event list did not end after ${MAX_PAGES} pages; the backfill stopped there`);
    page = await run.callPaypal('list webhook events (next page)', () => paypal.listWebhookEvents({ next }));
  }
  // Only after the whole list was read: a run cut short starts from the same place next time.
  if (!run.o.dryRun && newest !== null) store.transaction((tx) => setSyncState(tx, NEWEST_EVENT_KEY, String(newest), clock()));
}

function ingestMissing(run: RunContext, events: readonly ListedEventView[]): void {
  const { store, clock } = run.base;
  const known = listKnownEventIds(store.db, events.map((e) => e.id));
  const now = clock();
  const missing: NewWebhookEvent[] = [];
  for (const e of events) {
    if (known.has(e.id) || missing.some((m) => m.id === e.id)) continue;
    const rawBody = JSON.stringify(e.body);
    const fields = readIngestFields(rawBody);
    // The list's parser kept only envelopes; one the inbox would refuse is left out, as the webhook route refuses it.
    if (fields === null) continue;
    const envelope = parseEnvelope(rawBody);
    const route = envelope === null ? null : routeEvent(envelope);
    // An event Concierge does not act on (another app's checkout, a dispute still an inquiry) would change nothing: not worth a row.
    if (route === null || route.kind === 'ignored') continue;
    const subscriptionId = 'subscriptionId' in route ? route.subscriptionId : null;
    const sent = e.createdAt === null ? 'at an unknown time' : new Date(e.createdAt).toISOString();
    run.report.differences.push({
      check: 'events',
      subscriptionId,
      memberId: null,
      difference: `${e.eventType} ${e.id} sent ${sent} never arrived`,
      action: run.o.dryRun ? 'would ingest it and process it' : 'ingested; processing queued',
    });
    const body = Buffer.from(rawBody);
    missing.push({ seq: missing.length, ...fields, transmissionId: `backfill:${e.id}`, rawBody, bodySha256: createHash('sha256').update(body).digest(), receivedAt: now });
  }
  if (run.o.dryRun || missing.length === 0) return;
  const ingest = prepareIngestBatch(store.sqlite, { kind: processWebhookJob.kind, maxAttempts: processWebhookJob.maxAttempts });
  store.transaction((tx) => {
    // The writer's batch runs as a savepoint inside this transaction; marking it wakes the runner after COMMIT.
    ingest(missing);
    signalJobQueued(tx);
  });
}
