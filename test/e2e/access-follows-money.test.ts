import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySubscription } from '../../src/app/apply-subscription.ts';
import { readSubscription } from '../../src/app/paypal-reads.ts';
import { createPaypalClient } from '../../src/paypal/client.ts';
import { auditEntries, members, payments, subscriptions, webhookEvents } from '../../src/store/schema.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * SPEC "Access follows money" and "Payment events are notifications too",
 * tried as a member who wants Warlord at Elite's price would: each attack
 * runs through the real PayPal SDK and the stand-in, and must fail.
 */

const DAY = 86_400_000;
let h: Harness;
let nextMember = 730000000000000000n;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const newMember = () => String(++nextMember);
const tierOf = (memberId: string) => db().select().from(members).where(eq(members.discordUserId, memberId)).get()?.entitledTier ?? null;
const sub = (id: string) => db().select().from(subscriptions).where(eq(subscriptions.id, id)).get();
const inbox = (id: string) => db().select().from(webhookEvents).where(eq(webhookEvents.id, id)).get();
const securityAudits = () => db().select().from(auditEntries).where(eq(auditEntries.kind, 'security.unconfirmed_event')).all();
const client = () => createPaypalClient({ clientId: 'test-client-id', clientSecret: 'test-client-secret', apiUrl: h.paypal.url, mode: 'sandbox', timeoutMs: 2000 });
const urls = { returnUrl: 'https://members.example.test/paypal/return', cancelUrl: 'https://members.example.test/paypal/cancel' };

async function send(event: WebhookEvent<unknown>) {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
  return h.waitFor(() => {
    const row = inbox(event.id);
    return row?.processedAt != null ? row : undefined;
  });
}

async function activeMember(planId: string) {
  const memberId = newMember();
  const s = h.paypal.createSubscription({ planId, customId: memberId });
  h.paypal.approve(s.id);
  await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
  return { memberId, subId: s.id };
}

/** PayPal's revise, approved by the buyer: plan_id changes now, the new price is charged from the next cycle. */
async function revise(subId: string, planId: string) {
  await client().reviseSubscription(subId, planId, urls);
  h.paypal.approveRevision(subId);
  await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', subId));
}

async function cancelAtPaypal(subId: string) {
  h.paypal.setStatus(subId, 'CANCELLED');
  await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
}

describe('plan changes cannot be gamed', () => {
  it('upgrade by revise, then cancel: Elite until the paid-through Elite bought, never Warlord', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.eliteMonthly);
    const paidThrough = sub(subId)?.paidThrough ?? 0;
    await revise(subId, PLAN_IDS.warlordMonthly);
    expect(tierOf(memberId)).toBe('elite');
    await cancelAtPaypal(subId);
    expect(sub(subId)).toMatchObject({ state: 'cancelled', accessUntil: paidThrough, paidPlanId: PLAN_IDS.eliteMonthly });
    expect(tierOf(memberId)).toBe('elite');
    h.advance(paidThrough - h.now() + 60_000);
    await h.waitFor(() => tierOf(memberId) === null);
  });

  it('upgrade then downgrade just before each renewal, repeated: every payment is at Elite’s price, so Elite only', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.eliteMonthly);
    for (let cycle = 0; cycle < 2; cycle += 1) {
      await revise(subId, PLAN_IDS.warlordMonthly);
      expect(tierOf(memberId)).toBe('elite');
      await revise(subId, PLAN_IDS.eliteMonthly);
      const next = Date.parse(h.paypal.get(subId)?.nextBillingTime ?? '');
      h.advance(next - h.now() + 1000);
      const sale = h.paypal.recordPayment(subId);
      expect(sale.amount).toBe('4.99');
      await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
      expect(tierOf(memberId)).toBe('elite');
      expect(sub(subId)?.paidPlanId).toBe(PLAN_IDS.eliteMonthly);
    }
  });

  it('monthly → yearly, then cancel: access ends at the monthly paid-through, not a year on', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.titanMonthly);
    const paidAt = Date.parse(h.paypal.get(subId)?.sales[0]?.time ?? '');
    await revise(subId, PLAN_IDS.titanYearly);
    await cancelAtPaypal(subId);
    const row = sub(subId);
    expect(row?.accessUntil).toBeLessThan(paidAt + 32 * DAY);
    expect(row?.accessUntil).toBeGreaterThan(paidAt + 27 * DAY);
    expect(row).toMatchObject({ paidPlanId: PLAN_IDS.titanMonthly, intervalUnit: 'MONTH' });
    expect(tierOf(memberId)).toBe('titan');
  });
});

describe('payment events are confirmed with PayPal', () => {
  it('a forged sale dated 2999 changes nothing; a real one counts with PayPal’s time, never the body’s', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.eliteMonthly);
    const before = sub(subId);
    h.advance(60_000);
    const real = h.paypal.recordPayment(subId);
    const forged = h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', real.id);
    const resource = forged.resource as { id: string; create_time: string; amount: { total: string } };
    resource.id = 'FORGEDSALE0000001';
    resource.create_time = '2999-01-01T00:00:00Z';
    resource.amount.total = '49.99';
    const row = await send(forged);
    expect(row.outcome).toBe('unconfirmed');
    expect(db().select().from(payments).where(eq(payments.id, 'FORGEDSALE0000001')).all()).toEqual([]);
    expect(sub(subId)?.paidThrough).toBe(before?.paidThrough);
    expect(securityAudits().length).toBeGreaterThanOrEqual(1);

    const dated2999 = h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', real.id);
    (dated2999.resource as { create_time: string }).create_time = '2999-01-01T00:00:00Z';
    await send(dated2999);
    const payment = db().select().from(payments).where(eq(payments.id, real.id)).get();
    expect(payment?.paidAt).toBe(Date.parse(real.time));
    expect(payment).toMatchObject({ amount: '4.99', planId: PLAN_IDS.eliteMonthly, intervalUnit: 'MONTH' });
    expect(sub(subId)?.paidThrough).toBeLessThan(h.now() + 70 * DAY); // two months billed (the stand-in moved next_billing_time on), not 2999
    expect(tierOf(memberId)).toBe('elite');
  });

  it('a refund PayPal does not confirm changes nothing, and repeats within a minute leave one security audit entry', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.legendaryMonthly);
    const sale = h.paypal.get(subId)?.sales[0];
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale?.id ?? ''));
    // The activation read already counted this payment: its row still says what it paid for.
    expect(db().select().from(payments).where(eq(payments.id, sale?.id ?? '')).get()).toMatchObject({ planId: PLAN_IDS.legendaryMonthly, tierKey: 'legendary' });
    h.advance(61_000); // a fresh throttle window
    const auditsBefore = securityAudits().length;
    for (const type of ['PAYMENT.SALE.REFUNDED', 'PAYMENT.SALE.REVERSED'] as const) {
      const row = await send(h.paypal.saleEvent(type, sale?.id ?? ''));
      expect(row.outcome).toBe('unconfirmed');
    }
    expect(sub(subId)).toMatchObject({ state: 'active', revokedAt: null });
    expect(tierOf(memberId)).toBe('legendary');
    expect(securityAudits().length).toBe(auditsBefore + 1);
  });

  it('an unknown sale naming someone else’s subscription changes nothing', async () => {
    const victim = await activeMember(PLAN_IDS.titanMonthly);
    const refund = h.paypal.event('PAYMENT.SALE.REFUNDED', {
      id: 'REFUND00000000001',
      state: 'completed',
      sale_id: 'NOSUCHSALE0000001',
      billing_agreement_id: victim.subId,
      amount: { total: '19.99', currency: 'USD' },
      create_time: new Date(h.now()).toISOString(),
    });
    const row = await send(refund);
    expect(row.outcome).toBe('unconfirmed');
    expect(sub(victim.subId)?.revokedAt).toBeNull();
    expect(tierOf(victim.memberId)).toBe('titan');
  });

  it('a chargeback PayPal does not report changes nothing; one PayPal reports revokes', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.eliteMonthly);
    const sale = h.paypal.get(subId)?.sales[0]?.id ?? '';
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale));
    const inquiry = h.paypal.openDispute(sale, { stage: 'INQUIRY' });
    const claimed = h.paypal.disputeEvent('CUSTOMER.DISPUTE.UPDATED', sale, 'INQUIRY', { disputeId: inquiry.id });
    (claimed.resource as { dispute_life_cycle_stage: string }).dispute_life_cycle_stage = 'CHARGEBACK';
    expect((await send(claimed)).outcome).toBe('unconfirmed');
    expect(tierOf(memberId)).toBe('elite');

    h.paypal.setDisputeStage(inquiry.id, 'CHARGEBACK');
    await send(h.paypal.disputeEvent('CUSTOMER.DISPUTE.UPDATED', sale, 'CHARGEBACK', { disputeId: inquiry.id }));
    expect(sub(subId)?.state).toBe('revoked');
    expect(tierOf(memberId)).toBeNull();
  });

  it('a chargeback of a sale whose own COMPLETED event never came: PayPal places the sale, the role goes once, the sale is recorded disputed', async () => {
    const memberId = newMember();
    h.discord.addMember(memberId);
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
    const sale = h.paypal.approve(s.id);
    // Only the activation arrives: its read counts the payment, so the member holds Elite with no sale recorded.
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
    await h.waitFor(() => (h.discord.member(memberId) ?? []).includes(ROLE_IDS.elite));
    expect(db().select().from(payments).where(eq(payments.id, sale.id)).get()).toBeUndefined();

    const row = await send(h.paypal.disputeEvent('CUSTOMER.DISPUTE.CREATED', sale.id, 'CHARGEBACK'));
    expect(row.outcome).toBe('processed');
    expect(sub(s.id)?.state).toBe('revoked');
    expect(tierOf(memberId)).toBeNull();
    expect(db().select().from(payments).where(eq(payments.id, sale.id)).get()).toMatchObject({ subscriptionId: s.id, state: 'disputed' });
    await h.waitFor(() => !(h.discord.member(memberId) ?? []).includes(ROLE_IDS.elite));
    await h.settle();
    expect(h.discord.callsTo('DELETE', new RegExp(`^/guilds/\\d+/members/${memberId}/roles/`))).toBe(1);
    expect(h.paypal.requests.some((r) => r.method === 'GET' && r.path === `/v1/payments/sale/${sale.id}`)).toBe(true);
  });

  it('a refund naming only a sale Concierge never recorded revokes at once (PayPal places the sale in its subscription)', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.titanMonthly);
    const sale = h.paypal.get(subId)?.sales[0]?.id ?? '';
    h.paypal.refundSale(sale);
    const refund = h.paypal.saleEvent('PAYMENT.SALE.REFUNDED', sale);
    expect(refund.resource).not.toHaveProperty('billing_agreement_id');
    expect((await send(refund)).outcome).toBe('processed');
    expect(sub(subId)?.state).toBe('revoked');
    expect(tierOf(memberId)).toBeNull();
    expect(db().select().from(payments).where(eq(payments.id, sale)).get()?.state).toBe('refunded');
  });

  it('a refund naming only a sale PayPal does not know changes nothing and is not retried', async () => {
    const bystander = await activeMember(PLAN_IDS.titanMonthly);
    const refund = h.paypal.event('PAYMENT.SALE.REFUNDED', { id: 'REFUND00000000002', state: 'completed', sale_id: 'NOSUCHSALE0000002', amount: { total: '19.99', currency: 'USD' }, create_time: new Date(h.now()).toISOString() });
    const row = await send(refund);
    expect(row.outcome).toBe('unconfirmed');
    expect(row.detail).toContain('PayPal knows no sale NOSUCHSALE0000002');
    expect(tierOf(bystander.memberId)).toBe('titan');
  });

  it('after a refund, a later payment that reaches no price leaves the revocation; one at the plan’s price lifts it', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.titanMonthly);
    const sale = h.paypal.get(subId)?.sales[0]?.id ?? '';
    h.paypal.refundSale(sale);
    await send(h.paypal.saleEvent('PAYMENT.SALE.REFUNDED', sale));
    expect(sub(subId)?.state).toBe('revoked');
    const read = await readSubscription(client(), subId);
    const apply = (value: string) => {
      h.advance(DAY);
      h.service.store.transaction((tx) => {
        applySubscription(tx, read, { catalog: h.service.tiers.current(), effects: h.service.effects, now: h.now(), eventId: null, payment: { value, currency: 'USD', at: h.now() } });
      });
    };
    apply('0.50');
    expect(sub(subId)).toMatchObject({ state: 'revoked', revokedReason: expect.stringContaining('refunded') });
    expect(tierOf(memberId)).toBeNull();
    apply('19.99');
    expect(sub(subId)).toMatchObject({ state: 'active', revokedAt: null, revokedReason: null });
    expect(tierOf(memberId)).toBe('titan');
  });

  it('a partial refund keeps access under the default policy (on_partial_refund: keep) and is audited', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.legendaryMonthly);
    const sale = h.paypal.get(subId)?.sales[0]?.id ?? '';
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale));
    h.paypal.refundSale(sale, { amount: '2.00' });
    await send(h.paypal.saleEvent('PAYMENT.SALE.REFUNDED', sale));
    expect(tierOf(memberId)).toBe('legendary');
    expect(db().select().from(payments).where(eq(payments.id, sale)).get()?.state).toBe('partially_refunded');
    expect(db().select().from(auditEntries).where(and(eq(auditEntries.subscriptionId, subId), eq(auditEntries.kind, 'payment.partially_refunded'))).all()).toHaveLength(1);
  });
});

describe('stale reads', () => {
  it('an ACTIVE read older than a stored cancellation leaves it cancelled, even with a payment', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.eliteMonthly);
    const stale = await readSubscription(client(), subId);
    h.advance(2000);
    await cancelAtPaypal(subId);
    const cancelled = sub(subId);
    expect(cancelled?.state).toBe('cancelled');
    h.service.store.transaction((tx) => {
      const payment = { value: '4.99', currency: 'USD', at: h.now() };
      applySubscription(tx, stale, { catalog: h.service.tiers.current(), effects: h.service.effects, now: h.now(), eventId: null, payment });
    });
    expect(sub(subId)).toMatchObject({ state: 'cancelled', paypalStatus: 'CANCELLED' });
    expect(tierOf(memberId)).toBe('elite');
  });
});
