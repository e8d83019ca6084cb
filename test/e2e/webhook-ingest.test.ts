import { connect } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, jobs, webhookEvents } from '../../src/store/schema.ts';
import { MEMBER_ID, TEST_WEBHOOK_ID, startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/** The HTTP face of the pipeline: what is accepted, what is rejected, and that rejections change nothing. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const inboxCount = () => h.service.store.db.select().from(webhookEvents).all().length;

function activeSubscriptionEvent() {
  const sub = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: MEMBER_ID, status: 'ACTIVE' });
  return h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id);
}

describe('POST /webhooks/paypal', () => {
  it('stores a valid event once, enqueues its processing and answers 200', async () => {
    const event = activeSubscriptionEvent();
    const res = await h.deliver(event);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'stored' });
    const row = h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get();
    expect(row?.eventType).toBe('BILLING.SUBSCRIPTION.ACTIVATED');
    expect(row?.rawBody).toBe(JSON.stringify(event));
    const again = await h.deliver(event);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ status: 'duplicate' });
    const processJobs = h.service.store.db.select().from(jobs).all().filter((j) => j.kind === 'process-webhook' && j.payload === JSON.stringify({ eventId: event.id }));
    expect(processJobs).toHaveLength(1);
  });

  const rejections: [string, (e: ReturnType<typeof activeSubscriptionEvent>) => Promise<{ status: number; body: string }>, string][] = [
    ['a tampered body', (e) => h.deliver(e, { tamper: 'body' }), 'bad_signature'],
    ['a corrupted signature', (e) => h.deliver(e, { tamper: 'signature' }), 'bad_signature'],
    ['a signature made for another webhook id', (e) => h.deliver(e, { webhookId: 'WH-SOMEONE-ELSE' }), 'bad_signature'],
    ['an http certificate URL', (e) => h.deliver(e, { headersOverride: { 'paypal-cert-url': h.paypal.url.replace('https:', 'http:') + '/v1/notifications/certs/CERT-1' } }), 'bad_cert_url'],
    ['a certificate on a foreign host', (e) => h.deliver(e, { headersOverride: { 'paypal-cert-url': 'https://evil.example.com/v1/notifications/certs/CERT-1' } }), 'bad_cert_url'],
    ['a stale transmission time', (e) => h.deliver(e, { transmissionTime: new Date(h.now() - 4 * 86_400_000).toISOString() }), 'stale_transmission'],
    ['a certificate with the wrong subject', (e) => h.deliver(e, { certName: 'wrong-cn' }), 'bad_certificate'],
    ['a self-signed certificate with the sandbox signing name', (e) => h.deliver(e, { certName: 'self-signed' }), 'bad_certificate'],
    ['a CA-signed certificate with the live signing name in sandbox mode', (e) => h.deliver(e, { certName: 'live-cn' }), 'bad_certificate'],
    ['an allowed host on a port other than 443', (e) => h.deliver(e, { headersOverride: { 'paypal-cert-url': 'https://api.sandbox.paypal.com:8443/v1/notifications/certs/CERT-1' } }), 'bad_cert_url'],
    ['missing signature headers', (e) => h.deliver(e, { headersOverride: { 'paypal-transmission-sig': '' } }), 'missing_headers'],
  ];

  it.each(rejections)('rejects %s with 400 and stores nothing', async (_name, send, reason) => {
    const before = inboxCount();
    const event = activeSubscriptionEvent();
    const res = await send(event);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: reason });
    expect(inboxCount()).toBe(before);
    expect(h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()).toBeUndefined();
  });

  it('fetches at most a handful of certificates for 200 distinct certificate URLs delivered at once', async () => {
    const certFetches = () => h.paypal.callsTo('GET', /^\/v1\/notifications\/certs\/CERT-FLOOD-/);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => h.deliver(activeSubscriptionEvent(), { certName: `CERT-FLOOD-${i}` })));
    expect(certFetches()).toBeLessThanOrEqual(8);
    // Refused deliveries get a 400 PayPal retries; none is stored without its certificate.
    const refused = answers.filter((a) => a.status === 400);
    expect(refused.length).toBeGreaterThanOrEqual(192);
    for (const a of refused) expect(JSON.parse(a.body)).toEqual({ error: 'cert_unavailable' });
  });

  it('leaves a security audit entry for rejected deliveries', () => {
    const entries = h.service.store.db.select().from(auditEntries).where(eq(auditEntries.kind, 'webhook.rejected')).all();
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.map((e) => e.message).join('\n')).toMatch(/bad_signature/);
  });

  it('processes the same event delivered 5 times concurrently exactly once', async () => {
    const event = activeSubscriptionEvent();
    const subId = (event.resource as { id: string }).id;
    const results = await Promise.all(Array.from({ length: 5 }, () => h.deliver(event)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.filter((r) => JSON.parse(r.body).status === 'stored')).toHaveLength(1);
    await h.waitFor(() => h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt);
    await h.settle();
    expect(h.paypal.callsTo('GET', new RegExp(`/v1/billing/subscriptions/${subId}$`))).toBe(1);
  });

  it('stores an unknown event type and answers 200 without calling PayPal', async () => {
    const calls = h.paypal.requests.length;
    const event = h.paypal.event('CHECKOUT.ORDER.APPROVED', { id: 'ORDER-1' });
    const res = await h.deliver(event);
    expect(res.status).toBe(200);
    const row = await h.waitFor(() => {
      const r = h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get();
      return r?.processedAt != null ? r : undefined;
    });
    expect(row.outcome).toBe('ignored');
    expect(h.paypal.requests.length).toBe(calls);
  });

  /** Sends only the request head of a 1,000-byte POST and returns the first answer line, or 'no answer' when the server waits for the body. */
  function answerWithoutBody(headers: Record<string, string>): Promise<{ status: string; body: string }> {
    const { port } = new URL(h.service.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let data = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ status: 'no answer', body: '' });
      }, 1500);
      socket.on('data', (d) => {
        data += d.toString();
        const end = data.indexOf('\r\n\r\n');
        if (end !== -1 && data.length > end + 4 && data.trimEnd().endsWith('}')) {
          clearTimeout(timer);
          socket.destroy();
          resolve({ status: data.split('\r\n')[0] ?? '', body: data.slice(end + 4) });
        }
      });
      socket.on('error', reject);
      const head = Object.entries({ ...headers, 'content-type': 'application/json', 'content-length': '1000' }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`POST /webhooks/paypal HTTP/1.1\r\nHost: 127.0.0.1\r\n${head}\r\n`);
    });
  }

  it('refuses missing, repeated or unusable signature headers before reading the body', async () => {
    const { headers } = h.paypal.signedRequest(activeSubscriptionEvent(), { webhookId: TEST_WEBHOOK_ID, transmissionTime: new Date(h.now()).toISOString() });
    const { 'paypal-transmission-sig': _sig, ...withoutSig } = headers;
    const answers = {
      missing: await answerWithoutBody(withoutSig),
      badUrl: await answerWithoutBody({ ...headers, 'paypal-cert-url': 'https://evil.example.com/v1/notifications/certs/CERT-1' }),
      stale: await answerWithoutBody({ ...headers, 'paypal-transmission-time': new Date(h.now() - 4 * 86_400_000).toISOString() }),
    };
    expect(answers.missing.status).toMatch(/^HTTP\/1\.1 400/);
    expect(JSON.parse(answers.missing.body)).toEqual({ error: 'missing_headers' });
    expect(JSON.parse(answers.badUrl.body)).toEqual({ error: 'bad_cert_url' });
    expect(JSON.parse(answers.stale.body)).toEqual({ error: 'stale_transmission' });
    // A repeated header is as good as a missing one (Node joins some repeats; raw head keeps both lines).
    const repeated = await answerWithoutBody({ ...headers, 'paypal-transmission-id': headers['paypal-transmission-id'] ?? '', 'Paypal-Transmission-Id': 'second' });
    expect(JSON.parse(repeated.body)).toEqual({ error: 'missing_headers' });
    // Valid headers: the server waits for the body.
    expect((await answerWithoutBody(headers)).status).toBe('no answer');
  });

  it('answers 413 to a 2 MiB body and stays healthy', async () => {
    // Fastify answers and closes while the client is still uploading, so read the answer on a raw socket.
    const { port } = new URL(h.service.url);
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let data = '';
      socket.on('data', (d) => {
        data += d.toString();
        if (data.includes('\r\n')) {
          resolve(data.split('\r\n')[0] ?? '');
          socket.destroy();
        }
      });
      socket.on('error', (err) => (data === '' ? reject(err) : undefined));
      const size = 2 * 1024 * 1024;
      socket.write(`POST /webhooks/paypal HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
      socket.write(Buffer.alloc(size, 0x61), () => undefined);
    });
    expect(status).toMatch(/^HTTP\/1\.1 413/);
    const health = await fetch(`${h.service.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${h.service.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
