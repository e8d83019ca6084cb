import { eq } from 'drizzle-orm';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, jobs, webhookEvents } from '../../src/store/schema.ts';
import { postRaw, type SignedRequest } from '../../src/stand-ins/paypal/deliver.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { forgeCrc32 } from '../helpers/crc32-forge.ts';
import { MEMBER_ID, OTHER_MEMBER_ID, TEST_WEBHOOK_ID, startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/**
 * Transmission replay: PayPal signs crc32(body), not the body, so whoever
 * saw one delivery (a log, a proxy) can write a different body with the same
 * CRC32 and send it with the captured headers for as long as the transmission
 * time is accepted (3 days). Its event id is new, so event-id dedupe does not
 * catch it; the transmission id, remembered with a hash of its body, does.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const webhookUrl = () => `${h.service.url}/webhooks/paypal`;
const inboxRow = (id: string) => h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, id)).get();
const jobsFor = (id: string) => h.service.store.db.select().from(jobs).where(eq(jobs.payload, JSON.stringify({ eventId: id }))).all();

function capturedDelivery(): { event: WebhookEvent<unknown>; request: SignedRequest } {
  const sub = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: MEMBER_ID, status: 'ACTIVE' });
  const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id);
  const request = h.paypal.signedRequest(event, { webhookId: TEST_WEBHOOK_ID, transmissionTime: new Date(h.now()).toISOString() });
  return { event, request };
}

/** A payment for someone else whose body has the CRC32 of `original`, so the captured signature still verifies. */
function forgedSale(original: string): { id: string; body: string } {
  const sub = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: OTHER_MEMBER_ID });
  const sale = h.paypal.approve(sub.id);
  const event = h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id, { summary: '````````````' });
  const text = JSON.stringify(event);
  const offset = text.indexOf('````````````');
  const forged = forgeCrc32(Buffer.from(text), { offset, length: 12 }, crc32(Buffer.from(original)) >>> 0).toString('utf8');
  expect(JSON.parse(forged)).toMatchObject({ id: event.id, event_type: 'PAYMENT.SALE.COMPLETED' });
  return { id: event.id, body: forged };
}

describe('webhook transmission replay', () => {
  it('answers the same delivery twice with 200 and stores it once', async () => {
    const { event, request } = capturedDelivery();
    const first = await postRaw(webhookUrl(), request);
    const second = await postRaw(webhookUrl(), request);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([JSON.parse(first.body), JSON.parse(second.body)]).toEqual([{ status: 'stored' }, { status: 'duplicate' }]);
    expect(inboxRow(event.id)).toBeDefined();
    expect(jobsFor(event.id)).toHaveLength(1);
  });

  it('refuses a CRC32-forged body under captured headers: 400 replayed_transmission, nothing stored, audited', async () => {
    const { event, request } = capturedDelivery();
    expect((await postRaw(webhookUrl(), request)).status).toBe(200);
    const forged = forgedSale(request.body);
    expect(crc32(Buffer.from(forged.body)) >>> 0).toBe(crc32(Buffer.from(request.body)) >>> 0);

    const res = await postRaw(webhookUrl(), { body: forged.body, headers: request.headers });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'replayed_transmission' });
    expect(inboxRow(forged.id)).toBeUndefined();
    expect(jobsFor(forged.id)).toHaveLength(0);
    expect(jobsFor(event.id)).toHaveLength(1);
    const audits = h.service.store.db.select().from(auditEntries).where(eq(auditEntries.kind, 'webhook.rejected')).all();
    expect(audits.map((a) => a.message).join('\n')).toMatch(/replayed_transmission/);
  });

  it('remembers the transmission of a redelivered event, so its headers cannot carry a forged body later', async () => {
    const { event, request } = capturedDelivery();
    expect(JSON.parse((await postRaw(webhookUrl(), request)).body)).toEqual({ status: 'stored' });
    // PayPal redelivers the same event under a new transmission id.
    const again = h.paypal.signedRequest(event, { webhookId: TEST_WEBHOOK_ID, transmissionTime: new Date(h.now()).toISOString() });
    expect(again.headers['paypal-transmission-id']).not.toBe(request.headers['paypal-transmission-id']);
    expect(JSON.parse((await postRaw(webhookUrl(), again)).body)).toEqual({ status: 'duplicate' });

    const forged = forgedSale(again.body);
    const res = await postRaw(webhookUrl(), { body: forged.body, headers: again.headers });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'replayed_transmission' });
    expect(inboxRow(forged.id)).toBeUndefined();
  });
});
