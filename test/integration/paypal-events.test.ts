import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConciergeError } from '../../src/errors.ts';
import { createPaypalClient, type PaypalClient } from '../../src/paypal/client.ts';
import { parseWebhookEventPage } from '../../src/paypal/webhook-events.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';

/**
 * PayPal's event list (`GET /v1/notifications/webhooks-events`) through the
 * real SDK's request builder against the stand-in, which lists the events it
 * sent: newest first, in the window asked for, paged by `next` links.
 */

const T0 = Date.parse('2026-04-01T00:00:00Z');
const MINUTE = 60_000;
let paypal: PaypalStandIn;
let client: PaypalClient;

beforeAll(async () => {
  paypal = await createPaypalStandIn();
  client = createPaypalClient({ clientId: paypal.clientId, clientSecret: paypal.clientSecret, apiUrl: paypal.url, mode: 'sandbox', timeoutMs: 2_000, retryIntervalMs: 20 });
  const sub = paypal.createSubscription({ planId: 'P-ANY', customId: '112233445566778899', status: 'ACTIVE' });
  // 25 events a minute apart from T0, and one the day before: outside the window asked for below.
  for (let i = 0; i < 25; i++) paypal.loseEvent(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', sub.id, { createTime: new Date(T0 + i * MINUTE), id: `WH-E${String(i).padStart(2, '0')}` }));
  paypal.loseEvent(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', sub.id, { createTime: new Date(T0 - 86_400_000), id: 'WH-OLD' }));
});
afterAll(async () => {
  client.close();
  await paypal.close();
});

describe('listWebhookEvents', () => {
  it('pages through the window newest first, following next links to the end', async () => {
    const ids: string[] = [];
    let page = await client.listWebhookEvents({ start: new Date(T0), end: new Date(T0 + 60 * MINUTE), pageSize: 10 });
    const pages = [page];
    ids.push(...page.events.map((e) => e.id));
    while (page.next !== null) {
      const next = page.next;
      expect(next).toMatch(/^\/v1\/notifications\/webhooks-events\?/);
      page = await client.listWebhookEvents({ next });
      pages.push(page);
      ids.push(...page.events.map((e) => e.id));
    }
    expect(pages.map((p) => p.events.length)).toEqual([10, 10, 5]);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `WH-E${String(24 - i).padStart(2, '0')}`));
    expect(pages[0]?.events[0]).toMatchObject({ id: 'WH-E24', eventType: 'BILLING.SUBSCRIPTION.UPDATED', createdAt: T0 + 24 * MINUTE });
    // Each event whole, as a delivery would have carried it.
    expect(pages[0]?.events[0]?.body).toEqual(paypal.sentEvents().find((e) => e.id === 'WH-E24'));
    const asked = paypal.requests.filter((r) => r.path === '/v1/notifications/webhooks-events');
    expect(asked[0]?.query).toEqual({ page_size: '10', start_time: new Date(T0).toISOString(), end_time: new Date(T0 + 60 * MINUTE).toISOString() });
    expect(asked[0]?.headers.authorization).toMatch(/^Bearer /);
  });

  it('a 5xx is a retryable failure; an empty window is an empty last page', async () => {
    const outage = paypal.fault({ path: '/v1/notifications/webhooks-events', status: 500, times: 1 });
    const err = await client.listWebhookEvents({ start: new Date(T0), end: new Date(T0 + MINUTE), pageSize: 10 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(outage.hits).toBe(1);
    expect(err).toBeInstanceOf(ConciergeError);
    expect((err as ConciergeError).retry).toBe(true);
    expect(await client.listWebhookEvents({ start: new Date(T0 + 90 * MINUTE), end: new Date(T0 + 99 * MINUTE), pageSize: 10 })).toEqual({ events: [], next: null });
  });
});

describe('parseWebhookEventPage', () => {
  const path = '/v1/notifications/webhooks-events';
  it('skips entries that are not event envelopes and keeps a next link on the events route', () => {
    const page = parseWebhookEventPage(
      JSON.stringify({
        events: [{ id: 'WH-1', event_type: 'X', create_time: 'not a time' }, { event_type: 'NO.ID' }, 'junk'],
        links: [{ href: 'https://api-m.paypal.com/v1/notifications/webhooks-events?page=2', rel: 'next' }],
      }),
      path,
    );
    expect(page).toEqual({ events: [{ id: 'WH-1', eventType: 'X', createdAt: null, body: { id: 'WH-1', event_type: 'X', create_time: 'not a time' } }], next: '/v1/notifications/webhooks-events?page=2' });
  });

  it.each([
    ['a next link off the events route (the token would go with it)', JSON.stringify({ events: [], links: [{ href: 'https://evil.example/steal', rel: 'next' }] })],
    ['a body that is not an event list', '<html>maintenance</html>'],
  ])('refuses %s as a permanent failure', (_name, body) => {
    expect(() => parseWebhookEventPage(body, path)).toThrow(expect.objectContaining({ code: 'paypal_invalid_response', retry: false }));
  });
});
