import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConciergeError } from '../../src/errors.ts';
import { createPaypalClient, type PaypalClient } from '../../src/paypal/client.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import { FIXTURE_PLANS, PLAN_IDS } from '../helpers/tiers.ts';

/**
 * Plans, setup fees with a delayed start, refunds, reversals and disputes:
 * the real SDK through our adapter against the stand-in, as in
 * paypal-client.test.ts.
 */

const DAY = 86_400_000;
const urls = { returnUrl: 'https://bot.example/paypal/return', cancelUrl: 'https://bot.example/paypal/cancel' };

let paypal: PaypalStandIn;
let api: PaypalClient;

async function failure(p: Promise<unknown>): Promise<ConciergeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ConciergeError);
    return err as ConciergeError;
  }
  throw new Error('expected the call to fail');
}

/** Every sale of a subscription, from a day ago to a year ahead. */
async function transactions(id: string) {
  return api.listTransactions(id, new Date(Date.now() - DAY), new Date(Date.now() + 400 * DAY));
}

function activeSub(planId: string = PLAN_IDS.legendaryMonthly): string {
  const sub = paypal.createSubscription({ planId, customId: '112233445566778899' });
  paypal.approve(sub.id);
  return sub.id;
}

beforeAll(async () => {
  paypal = await createPaypalStandIn({ plans: FIXTURE_PLANS });
  api = createPaypalClient({ clientId: paypal.clientId, clientSecret: paypal.clientSecret, apiUrl: paypal.url, mode: 'sandbox', timeoutMs: 2_000, retryIntervalMs: 20 });
});
afterAll(async () => {
  api.close();
  await paypal.close();
});
afterEach(() => {
  paypal.clearFaults();
  paypal.clearRequests();
});

describe('plans', () => {
  it('reads the regular price and interval of a plan', async () => {
    expect(await api.getPlan(PLAN_IDS.warlordMonthly)).toEqual({ planId: PLAN_IDS.warlordMonthly, value: '49.99', currency: 'USD', intervalUnit: 'MONTH', intervalCount: 1 });
    expect(await api.getPlan(PLAN_IDS.titanYearly)).toMatchObject({ value: '199.99', intervalUnit: 'YEAR', intervalCount: 1 });
    expect(paypal.callsTo('GET', /^\/v1\/billing\/plans\//)).toBe(2);
  });

  it('an unknown plan is a permanent not-found', async () => {
    expect(await failure(api.getPlan('P-NOSUCHPLAN0000000000001'))).toMatchObject({ code: 'paypal_not_found', retry: false });
  });
});

describe('a delayed start with a setup fee', () => {
  const startIn30Days = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * DAY);

  it('charges only the fee on approval, the plan price from the start date on', async () => {
    const start = startIn30Days();
    const { id } = await api.createSubscription({
      planId: PLAN_IDS.warlordMonthly,
      customId: '998877',
      requestId: 'upgrade-1',
      startTime: start,
      setupFee: { value: '40.00', currency: 'USD' },
      ...urls,
    });
    const create = paypal.requests.find((r) => r.method === 'POST' && r.path === '/v1/billing/subscriptions');
    expect(create?.body).toMatchObject({
      start_time: start.toISOString(),
      plan: { payment_preferences: { setup_fee: { currency_code: 'USD', value: '40.00' }, setup_fee_failure_action: 'CANCEL' } },
    });

    const feeSale = paypal.approve(id);
    expect(feeSale).toMatchObject({ amount: '40.00', currency: 'USD' });
    const sub = await api.getSubscription(id);
    expect(sub.status).toBe('ACTIVE');
    expect(sub.planOverridden).toBe(true);
    expect(sub.plan?.paymentPreferences?.setupFee).toEqual({ currencyCode: 'USD', value: '40.00' });
    expect(sub.billingInfo?.nextBillingTime).toBe(start.toISOString().replace('.000Z', 'Z'));
    expect(sub.billingInfo?.lastPayment?.amount).toEqual({ currencyCode: 'USD', value: '40.00' });
    expect((await transactions(id)).map((t) => t.amountWithBreakdown?.grossAmount.value)).toEqual(['40.00']);

    const regular = paypal.recordPayment(id, start);
    expect(regular.amount).toBe('49.99');
    const after = await api.getSubscription(id);
    expect(Date.parse(after.billingInfo?.nextBillingTime ?? '')).toBe(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate(), start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds()));
    expect((await transactions(id)).map((t) => t.amountWithBreakdown?.grossAmount.value)).toEqual(['40.00', '49.99']);
  });

  it('a declined setup fee cancels the subscription and charges nothing', async () => {
    const { id } = await api.createSubscription({
      planId: PLAN_IDS.warlordMonthly,
      customId: '998877',
      requestId: 'upgrade-2',
      startTime: startIn30Days(),
      setupFee: { value: '40.00', currency: 'USD' },
      ...urls,
    });
    expect(paypal.approve(id, { setupFeeFails: true })).toBeNull();
    expect((await api.getSubscription(id)).status).toBe('CANCELLED');
    expect(await transactions(id)).toEqual([]);
  });

  it('without a setup fee the first regular payment is charged on approval, as before', async () => {
    const { id } = await api.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '998877', requestId: 'plain-1', ...urls });
    expect(paypal.requests.find((r) => r.method === 'POST' && r.path === '/v1/billing/subscriptions')?.body).not.toHaveProperty('plan');
    expect(paypal.approve(id).amount).toBe('4.99');
    expect((await api.getSubscription(id)).planOverridden).toBe(false);
  });
});

describe('a revised plan', () => {
  it('shows the new plan at once and charges its price from the next payment', async () => {
    const id = activeSub(PLAN_IDS.eliteMonthly);
    await api.reviseSubscription(id, PLAN_IDS.titanMonthly, urls);
    paypal.approveRevision(id);
    expect((await api.getSubscription(id)).planId).toBe(PLAN_IDS.titanMonthly);
    expect((await transactions(id)).map((t) => t.amountWithBreakdown?.grossAmount.value)).toEqual(['4.99']);
    expect(paypal.recordPayment(id).amount).toBe('19.99');
  });
});

describe('refunds and reversals', () => {
  it('listTransactions shows REFUNDED, PARTIALLY_REFUNDED and REVERSED through the SDK', async () => {
    const id = activeSub();
    const [first] = paypal.get(id)?.sales ?? [];
    const second = paypal.recordPayment(id);
    const third = paypal.recordPayment(id);
    paypal.refundSale(first?.id ?? '');
    paypal.refundSale(second.id, { amount: '2.00' });
    paypal.reverseSale(third.id);

    const list = await transactions(id);
    expect(list.map((t) => [t.id, t.status])).toEqual([
      [first?.id, 'REFUNDED'],
      [second.id, 'PARTIALLY_REFUNDED'],
      // Not in the SDK's CaptureStatus enum: the SDK passes the string through.
      [third.id, 'REVERSED'],
    ]);
  });

  it('partial refunds that add up to the sale make it REFUNDED', () => {
    const sale = paypal.approve(paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly }).id);
    expect(paypal.refundSale(sale.id, { amount: '4.99' }).status).toBe('PARTIALLY_REFUNDED');
    expect(paypal.refundSale(sale.id, { amount: '5.00' }).status).toBe('REFUNDED');
    expect(() => paypal.refundSale(sale.id)).toThrow(/already REFUNDED/);
  });

  it('keeps filtering transactions by time', async () => {
    const id = activeSub();
    paypal.recordPayment(id, new Date(Date.now() + 40 * DAY));
    const soon = await api.listTransactions(id, new Date(Date.now() - DAY), new Date(Date.now() + DAY));
    expect(soon).toHaveLength(1);
  });

  it('refund and reversal events still point back to the sale', () => {
    const sale = paypal.approve(paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly }).id);
    paypal.refundSale(sale.id);
    expect(paypal.saleEvent('PAYMENT.SALE.REFUNDED', sale.id).resource).toMatchObject({ sale_id: sale.id, amount: { total: '9.99', currency: 'USD' } });
    expect(paypal.saleEvent('PAYMENT.SALE.REVERSED', sale.id).resource).toMatchObject({ sale_id: sale.id, reason_code: 'BUYER_COMPLAINT' });
  });
});

describe('sales', () => {
  it('getSale names the subscription a sale paid (billing_agreement_id), as the sale is now; an unknown sale is a 404', async () => {
    const sub = paypal.createSubscription({ planId: PLAN_IDS.titanMonthly });
    const sale = paypal.approve(sub.id);
    expect(await api.getSale(sale.id)).toEqual({ id: sale.id, subscriptionId: sub.id });
    const get = paypal.requests.at(-1);
    expect(get).toMatchObject({ method: 'GET', path: `/v1/payments/sale/${sale.id}` });
    expect(get?.headers.authorization).toMatch(/^Bearer A21AA/);

    paypal.refundSale(sale.id);
    const res = await fetch(`${paypal.url}/v1/payments/sale/${sale.id}`, { headers: { authorization: get?.headers.authorization ?? '' } });
    expect(await res.json()).toMatchObject({ id: sale.id, state: 'refunded', billing_agreement_id: sub.id });
    await expect(api.getSale('0NOSUCHSALE0000000')).rejects.toMatchObject({ code: 'paypal_not_found' });
  });
});

describe('disputes', () => {
  it('getDispute returns the stage, status and disputed sale ids', async () => {
    const sale = paypal.approve(paypal.createSubscription({ planId: PLAN_IDS.titanMonthly }).id);
    const d = paypal.openDispute(sale.id, { stage: 'INQUIRY' });
    expect(d.id).toMatch(/^PP-D-\d+$/);
    expect(await api.getDispute(d.id)).toEqual({ id: d.id, stage: 'INQUIRY', status: 'OPEN', saleIds: [sale.id], createTime: d.createTime });

    paypal.setDisputeStage(d.id, 'CHARGEBACK');
    expect(await api.getDispute(d.id)).toMatchObject({ stage: 'CHARGEBACK' });
    // Through the adapter's rewrite to the stand-in, with the SDK's bearer token.
    const get = paypal.requests.at(-1);
    expect(get).toMatchObject({ method: 'GET', path: `/v1/customer/disputes/${d.id}` });
    expect(get?.headers.authorization).toMatch(/^Bearer A21AA/);
  });

  it('a dispute event carries the dispute id the app can look up', async () => {
    const sale = paypal.approve(paypal.createSubscription({ planId: PLAN_IDS.titanMonthly }).id);
    const created = paypal.disputeEvent('CUSTOMER.DISPUTE.CREATED', sale.id, 'INQUIRY');
    const id = created.resource.dispute_id;
    expect(await api.getDispute(id)).toMatchObject({ id, stage: 'INQUIRY', saleIds: [sale.id] });

    paypal.setDisputeStage(id, 'CHARGEBACK');
    const updated = paypal.disputeEvent('CUSTOMER.DISPUTE.UPDATED', sale.id, 'CHARGEBACK', { disputeId: id });
    expect(updated.resource).toMatchObject({ dispute_id: id, dispute_life_cycle_stage: 'CHARGEBACK', disputed_transactions: [{ seller_transaction_id: sale.id }] });
  });

  it('an unknown dispute is a permanent not-found; a 5xx is retryable', async () => {
    expect(await failure(api.getDispute('PP-D-00000'))).toMatchObject({ code: 'paypal_not_found', retry: false });
    paypal.fault({ method: 'GET', path: /^\/v1\/customer\/disputes\//, status: 500, times: 1 });
    expect(await failure(api.getDispute('PP-D-00000'))).toMatchObject({ code: 'paypal_internal_service_error', retry: true });
  });
});
