import { createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SubscriptionStatus } from '@paypal/paypal-server-sdk';
import { ConciergeError } from '../../src/errors.ts';
import { createPaypalClient, type PaypalClient } from '../../src/paypal/client.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import { SIGNING_CERT_PEM } from '../../src/stand-ins/paypal/sign-webhook.ts';

/**
 * The real PayPal SDK, through our adapter, against the loopback stand-in: no
 * mocks, so what is asserted here is what the SDK really does on the wire.
 */

const TOKEN = /^\/v1\/oauth2\/token$/;
const SUBS = /^\/v1\/billing\/subscriptions/;
const WEEKLY = { id: 'P-WEEKLY0000000000000000', intervalUnit: 'WEEK', intervalCount: 1, price: '4.50', currency: 'EUR' } as const;
const MONTHLY = { id: 'P-MONTHLY000000000000000', intervalUnit: 'MONTH', intervalCount: 1, price: '9.99', currency: 'USD' } as const;

let paypal: PaypalStandIn;

function client(over: Partial<Parameters<typeof createPaypalClient>[0]> = {}): PaypalClient {
  return createPaypalClient({
    clientId: paypal.clientId,
    clientSecret: paypal.clientSecret,
    apiUrl: paypal.url,
    mode: 'sandbox',
    timeoutMs: 2_000,
    // Real waits are 1 s, 2 s; a test needs only the shape of the schedule.
    retryIntervalMs: 20,
    ...over,
  });
}

async function failure(p: Promise<unknown>): Promise<ConciergeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ConciergeError);
    return err as ConciergeError;
  }
  throw new Error('expected the call to fail');
}

function activeSub(planId: string = MONTHLY.id): string {
  const sub = paypal.createSubscription({ planId, customId: '112233445566778899' });
  paypal.approve(sub.id);
  return sub.id;
}

beforeAll(async () => {
  paypal = await createPaypalStandIn({ plans: [WEEKLY, MONTHLY] });
});
afterAll(async () => {
  await paypal.close();
});
afterEach(() => {
  paypal.clearFaults();
  paypal.clearRequests();
});

describe('reading subscriptions', () => {
  it('returns the SDK-typed subscription with billing info, custom id and plan interval', async () => {
    const id = activeSub(WEEKLY.id);
    const sub = await client().getSubscription(id);

    expect(sub.status).toBe(SubscriptionStatus.Active);
    expect(sub.customId).toBe('112233445566778899');
    expect(sub.billingInfo?.failedPaymentsCount).toBe(0);
    expect(sub.billingInfo?.outstandingBalance).toEqual({ currencyCode: 'EUR', value: '0.0' });
    expect(sub.billingInfo?.lastPayment?.amount).toEqual({ currencyCode: 'EUR', value: '4.50' });
    const paidAt = Date.parse(sub.billingInfo?.lastPayment?.time ?? '');
    expect(Date.parse(sub.billingInfo?.nextBillingTime ?? '') - paidAt).toBe(7 * 24 * 3600 * 1000);
    expect(sub.plan?.billingCycles?.[0]?.frequency).toEqual({ intervalUnit: 'WEEK', intervalCount: 1 });
    expect(paypal.requests.at(-1)?.query).toEqual({ fields: 'last_failed_payment,plan' });
  });

  it('passes the SDK schema in every state: pending, failed payment, cancelled', async () => {
    const api = client();
    const pending = paypal.createSubscription({ planId: MONTHLY.id, customId: 'u1' });
    expect((await api.getSubscription(pending.id)).status).toBe(SubscriptionStatus.ApprovalPending);

    const id = activeSub();
    paypal.failPayment(id);
    const failed = await api.getSubscription(id);
    expect(failed.billingInfo?.failedPaymentsCount).toBe(1);
    expect(failed.billingInfo?.lastFailedPayment?.reasonCode).toBe('PAYMENT_DENIED');
    expect(failed.billingInfo?.outstandingBalance.value).toBe('9.99');

    paypal.setStatus(id, 'CANCELLED');
    const cancelled = await api.getSubscription(id);
    expect(cancelled.status).toBe(SubscriptionStatus.Cancelled);
    expect(cancelled.billingInfo?.nextBillingTime).toBeUndefined();
  });

  it('fetches one OAuth token for several calls', async () => {
    const api = client();
    const id = activeSub();
    await api.getSubscription(id);
    await api.getSubscription(id);
    await api.listTransactions(id, new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000));
    expect(paypal.callsTo('POST', TOKEN)).toBe(1);
    expect(paypal.callsTo('GET', SUBS)).toBe(3);
  });

  it('shares one token request between concurrent first calls', async () => {
    const id = activeSub();
    const api = client();
    await Promise.all([api.getSubscription(id), api.getSubscription(id), api.getSubscription(id)]);
    expect(paypal.callsTo('POST', TOKEN)).toBe(1);
  });

  it('lists the completed sales', async () => {
    const id = activeSub();
    const second = paypal.recordPayment(id);
    const list = await client().listTransactions(id, new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000));
    expect(list).toHaveLength(2);
    expect(list[1]).toMatchObject({ id: second.id, status: 'COMPLETED', amountWithBreakdown: { grossAmount: { value: '9.99', currencyCode: 'USD' } } });
  });
});

describe('creating and changing subscriptions', () => {
  const input = { planId: MONTHLY.id, customId: '998877', returnUrl: 'https://bot.example/paypal/return', cancelUrl: 'https://bot.example/paypal/cancel' };

  it('creates once per request id', async () => {
    const api = client();
    const before = paypal.subscriptions().length;
    const a = await api.createSubscription({ ...input, requestId: 'req-1' });
    const b = await api.createSubscription({ ...input, requestId: 'req-1' });

    expect(b.id).toBe(a.id);
    expect(a.id).toMatch(/^I-[A-Z0-9]{12}$/);
    expect(a.status).toBe('APPROVAL_PENDING');
    expect(a.approveUrl).toMatch(new RegExp(`^${paypal.url}/checkoutnow\\?ba_token=BA-`));
    expect(paypal.subscriptions()).toHaveLength(before + 1);
    const create = paypal.requests.find((r) => r.method === 'POST' && r.path === '/v1/billing/subscriptions');
    expect(create?.headers['paypal-request-id']).toBe('req-1');
    expect(create?.body).toMatchObject({ plan_id: MONTHLY.id, custom_id: '998877', application_context: { return_url: input.returnUrl } });
  });

  it('rejects an unknown plan permanently', async () => {
    const e = await failure(client().createSubscription({ ...input, planId: 'P-NOPE', requestId: 'req-2' }));
    expect(e).toMatchObject({ code: 'paypal_unprocessable_entity', retry: false });
  });

  it('cancels, and a second cancel is a permanent 422', async () => {
    const api = client();
    const id = activeSub();
    await api.cancelSubscription(id, 'member asked');
    expect(paypal.get(id)?.status).toBe('CANCELLED');

    const e = await failure(api.cancelSubscription(id, 'again'));
    expect(e).toMatchObject({ code: 'paypal_unprocessable_entity', retry: false });
    expect(e.context.issue).toBe('SUBSCRIPTION_STATUS_INVALID');
    expect(e.message).toContain(`POST /v1/billing/subscriptions/${id}/cancel → 422`);
  });

  it('revises to an approve link; the plan changes once the buyer approves', async () => {
    const api = client();
    const id = activeSub(MONTHLY.id);
    const r = await api.reviseSubscription(id, WEEKLY.id, { returnUrl: input.returnUrl, cancelUrl: input.cancelUrl });
    expect(r.planId).toBe(WEEKLY.id);
    expect(r.approveUrl).toMatch(/checkoutnow\?ba_token=BA-/);
    expect((await api.getSubscription(id)).planId).toBe(MONTHLY.id);
    paypal.approveRevision(id);
    expect((await api.getSubscription(id)).planId).toBe(WEEKLY.id);
  });
});

describe('failures', () => {
  it('404 is permanent and names the exchange', async () => {
    const e = await failure(client().getSubscription('I-DOESNOTEXIST'));
    expect(e).toMatchObject({ code: 'paypal_not_found', retry: false });
    expect(e.message).toMatch(/GET \/v1\/billing\/subscriptions\/I-DOESNOTEXIST\?fields=last_failed_payment%2Cplan → 404 RESOURCE_NOT_FOUND INVALID_RESOURCE_ID debug_id [0-9a-f]+/);
    expect(paypal.callsTo('GET', SUBS)).toBe(1);
  });

  // Measured: the SDK throws its mapped error for a 500 inside its own retry
  // loop, which reads it as a "timeout"; with retryOnTimeout off (see client.ts)
  // one 500 reaches us as a retryable error, and the job runner retries it.
  it('a single 500 on GET is not retried by the SDK; the error is retryable', async () => {
    const id = activeSub();
    paypal.fault({ method: 'GET', path: SUBS, status: 500, times: 1 });
    const e = await failure(client().getSubscription(id));
    expect(e).toMatchObject({ code: 'paypal_internal_service_error', retry: true });
    expect(paypal.callsTo('GET', SUBS)).toBe(1);
  });

  it('a single 503 on GET is retried by the SDK and succeeds', async () => {
    const id = activeSub();
    paypal.fault({ method: 'GET', path: SUBS, status: 503, times: 1 });
    expect((await client().getSubscription(id)).id).toBe(id);
    expect(paypal.callsTo('GET', SUBS)).toBe(2);
  });

  it('persistent 5xx ends in a retryable error after the SDK retries', async () => {
    const id = activeSub();
    paypal.fault({ method: 'GET', path: SUBS, status: 503 });
    const e = await failure(client({ maxRetries: 2 }).getSubscription(id));
    expect(e).toMatchObject({ code: 'paypal_internal_service_error', retry: true });
    expect(paypal.callsTo('GET', SUBS)).toBe(3);

    paypal.clearFaults();
    paypal.fault({ method: 'GET', path: SUBS, status: 500 });
    expect(await failure(client().getSubscription(id))).toMatchObject({ code: 'paypal_internal_service_error', retry: true });
  });

  it('POSTs are never retried by the SDK', async () => {
    const id = activeSub();
    paypal.fault({ method: 'POST', path: /\/cancel$/, status: 503 });
    expect(await failure(client().cancelSubscription(id, 'x'))).toMatchObject({ retry: true });
    expect(paypal.callsTo('POST', /\/cancel$/)).toBe(1);
  });

  it('429 carries Retry-After', async () => {
    const id = activeSub();
    paypal.fault({ path: SUBS, status: 429, retryAfter: 30 });
    const e = await failure(client().getSubscription(id));
    expect(e).toMatchObject({ code: 'paypal_rate_limit_reached', retry: true, retryAfterMs: 30_000 });
    // 30 s is beyond the SDK's wait budget, so it did not sleep on it.
    expect(paypal.callsTo('GET', SUBS)).toBe(1);
  });

  it('a slow answer becomes a retryable timeout after about timeoutMs', async () => {
    const id = activeSub();
    const api = client({ timeoutMs: 300 });
    await api.getSubscription(id); // token first, so only the GET is timed
    paypal.fault({ method: 'GET', path: SUBS, delayMs: 2_000 });
    const started = Date.now();
    const e = await failure(api.getSubscription(id));
    const took = Date.now() - started;
    expect(e).toMatchObject({ code: 'paypal_timeout', retry: true });
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(1_900); // gave up before the 2 s answer came: the deadline, not the answer, ended the call
  });

  it('a dropped connection is a retryable network error', async () => {
    const id = activeSub();
    paypal.fault({ method: 'POST', path: /\/cancel$/, drop: true });
    expect(await failure(client().cancelSubscription(id, 'x'))).toMatchObject({ code: 'paypal_network', retry: true });
  });

  it('bad credentials are permanent and never leak the secret', async () => {
    const e = await failure(client({ clientSecret: 'wrong-secret-value' }).getSubscription('I-ANY'));
    expect(e).toMatchObject({ code: 'paypal_invalid_client', retry: false });
    expect(e.message).toContain('POST /v1/oauth2/token → 401');
    expect(e.message).not.toContain('wrong-secret-value');
    expect(JSON.stringify(e.context)).not.toContain('wrong-secret-value');
  });

  it('recovers after a failed token fetch (the SDK alone would keep failing)', async () => {
    const id = activeSub();
    const api = client();
    paypal.fault({ method: 'POST', path: TOKEN, status: 500, times: 1 });
    expect(await failure(api.getSubscription(id))).toMatchObject({ retry: true });
    expect((await api.getSubscription(id)).id).toBe(id);
    expect(paypal.callsTo('POST', TOKEN)).toBe(2);
  });

  it('a revoked token is a retryable 401, and the next call fetches a new one', async () => {
    const id = activeSub();
    const api = client();
    await api.getSubscription(id);
    paypal.revokeTokens();
    const e = await failure(api.getSubscription(id));
    expect(e).toMatchObject({ code: 'paypal_invalid_token', retry: true });
    const token = paypal.requests.at(-1)?.headers.authorization?.slice('Bearer '.length) ?? 'none';
    expect(e.message).not.toContain(token);
    expect((await api.getSubscription(id)).id).toBe(id);
    expect(paypal.callsTo('POST', TOKEN)).toBe(2);
  });
});

describe('webhook delivery', () => {
  let receiver: Server;
  let receiverUrl = '';
  const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/paypal`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  function verifies(r: { headers: IncomingHttpHeaders; body: Buffer }, webhookId: string): boolean {
    const h = (name: string): string => String(r.headers[name] ?? '');
    const message = `${h('paypal-transmission-id')}|${h('paypal-transmission-time')}|${webhookId}|${crc32(r.body) >>> 0}`;
    return verify('sha256', Buffer.from(message), createPublicKey(SIGNING_CERT_PEM), Buffer.from(h('paypal-transmission-sig'), 'base64'));
  }

  it('signs the exact bytes it sends, verifiable with the served certificate', async () => {
    const id = activeSub();
    const event = paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', id);
    const answer = await paypal.deliver(event, { url: receiverUrl, webhookId: 'WH-TEST' });
    expect(answer).toEqual({ status: 200, body: '{"ok":true}' });

    const got = received.at(-1);
    if (!got) throw new Error('nothing received');
    expect(verifies(got, 'WH-TEST')).toBe(true);
    expect(verifies(got, 'WH-OTHER')).toBe(false);
    expect(got.headers['paypal-auth-algo']).toBe('SHA256withRSA');
    const body = JSON.parse(got.body.toString('utf8')) as { id: string; event_type: string; resource: { id: string; custom_id: string } };
    expect(body).toMatchObject({ event_type: 'BILLING.SUBSCRIPTION.ACTIVATED', resource: { id, custom_id: '112233445566778899' } });
    expect(body.id).toMatch(/^WH-/);

    // The certificate URL is served by the stand-in over TLS the test trusts (NODE_EXTRA_CA_CERTS).
    const cert = await fetch(String(got.headers['paypal-cert-url']));
    expect(await cert.text()).toBe(SIGNING_CERT_PEM);
  });

  it('tampering after signing breaks verification', async () => {
    const sale = paypal.approve(paypal.createSubscription({ planId: MONTHLY.id, customId: 'u2' }).id);
    const event = paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id);
    expect(event.resource).toMatchObject({ id: sale.id, billing_agreement_id: sale.subscriptionId, amount: { total: '9.99', currency: 'USD' } });

    for (const tamper of ['body', 'signature'] as const) {
      await paypal.deliver(event, { url: receiverUrl, webhookId: 'WH-TEST', tamper });
      const got = received.at(-1);
      if (!got) throw new Error('nothing received');
      expect(verifies(got, 'WH-TEST')).toBe(false);
    }
  });

  it('builds refund and dispute resources that point back to the sale', () => {
    const sale = paypal.approve(paypal.createSubscription({ planId: MONTHLY.id, customId: 'u3' }).id);
    expect(paypal.saleEvent('PAYMENT.SALE.REFUNDED', sale.id).resource).toMatchObject({ sale_id: sale.id, state: 'completed' });
    const dispute = paypal.disputeEvent('CUSTOMER.DISPUTE.CREATED', sale.id, 'CHARGEBACK');
    expect(dispute).toMatchObject({ resource_type: 'dispute', resource: { disputed_transactions: [{ seller_transaction_id: sale.id }], dispute_life_cycle_stage: 'CHARGEBACK' } });
    const signed = paypal.signedRequest(dispute, { webhookId: 'WH-TEST' });
    expect(JSON.parse(signed.body)).toEqual(dispute);
  });
});
