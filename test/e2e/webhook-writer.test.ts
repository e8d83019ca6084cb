import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { jobs, webhookEvents } from '../../src/store/schema.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { MEMBER_ID, startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/**
 * The webhook writer thread: an acknowledgement always means the event is in
 * the database file, also when the writer dies or the service stops while
 * deliveries are in flight; while it is down, webhooks are refused (PayPal
 * retries) and /readyz says why.
 */

let h: Harness;
afterEach(() => h.close());

function subscriptionEvent(hh: Harness) {
  const sub = hh.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: MEMBER_ID, status: 'ACTIVE' });
  return hh.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id);
}

/** Reads the inbox through a connection of its own, as after a restart. */
function storedIds(hh: Harness): Set<string> {
  const db = new Database(hh.config.databasePath, { readonly: true });
  try {
    return new Set(db.prepare('SELECT id FROM webhook_events').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

describe('webhook writer thread', () => {
  it('refuses webhooks with 503 while its writer is down, reports it in /readyz, and restarts by itself', async () => {
    h = await startHarness();
    const event = subscriptionEvent(h);
    await h.service.ingest.thread()?.terminate();

    const refused = await h.deliver(event);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({ error: 'store_unavailable' });
    const ready = await fetch(`${h.service.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { failing: string[]; checks: Record<string, { detail?: string }> };
    expect(body.failing).toContain('ingest');
    expect(body.checks['ingest']?.detail).toMatch(/writer thread is down/);
    expect(storedIds(h).has(event.id)).toBe(false);

    // PayPal redelivers; the restarted writer stores it once and it is processed once.
    await h.waitFor(() => h.service.ingest.thread() !== null);
    const accepted = await h.deliver(event);
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body)).toEqual({ status: 'stored' });
    expect((await h.deliver(event)).status).toBe(200);
    await h.waitFor(() => h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt != null);
    const processJobs = h.service.store.db.select().from(jobs).all().filter((j) => j.kind === 'process-webhook' && j.payload === JSON.stringify({ eventId: event.id }));
    expect(processJobs).toHaveLength(1);
    expect((await fetch(`${h.service.url}/readyz`)).status).toBe(200);
  });

  it('every delivery acknowledged while the service shuts down is in the database file', async () => {
    h = await startHarness();
    const events = Array.from({ length: 40 }, () => subscriptionEvent(h));
    const deliveries = events.map((e) => h.deliver(e).catch(() => ({ status: 0, body: '' })));
    // Stop as soon as the first acknowledgement arrives: the others are being verified or committed.
    await Promise.race(deliveries);
    await h.service.close();
    const answers = await Promise.all(deliveries);
    const acked = events.filter((_, i) => answers[i]?.status === 200).map((e) => e.id);
    expect(acked.length).toBeGreaterThan(1);
    const stored = storedIds(h);
    for (const id of acked) expect(stored.has(id)).toBe(true);
  });

  it('answers 400 invalid_event to a signed body that is not a PayPal event, and stores nothing', async () => {
    h = await startHarness();
    const before = storedIds(h).size;
    const res = await h.deliver({ hello: 'world' } as unknown as WebhookEvent<unknown>);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'invalid_event' });
    expect(storedIds(h).size).toBe(before);
  });
});
