import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, jobs, members, subscriptions, webhookEvents } from '../../src/store/schema.ts';
import { createPaypalClient } from '../../src/paypal/client.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/**
 * SPEC's lifecycle table, row by row, through the whole pipeline: a signed
 * webhook from the PayPal stand-in, the real SDK re-reading the subscription,
 * the store's resulting state and entitlement.
 */

const DAY = 86_400_000;
let h: Harness;
let nextMember = 500000000000000000n;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const newMember = () => String(++nextMember);
const db = () => h.service.store.db;
const member = (id: string) => db().select().from(members).where(eq(members.discordUserId, id)).get();
const sub = (id: string) => db().select().from(subscriptions).where(eq(subscriptions.id, id)).get();
const roleSyncJobs = (memberId: string) => db().select().from(jobs).where(and(eq(jobs.kind, 'role-sync'), eq(jobs.dedupeKey, memberId))).all();

/** Delivers an event and waits until the pipeline has processed it. */
async function send(event: WebhookEvent<unknown>) {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
  return h.waitFor(() => {
    const row = db().select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get();
    return row?.processedAt != null ? row : undefined;
  });
}

/** An ACTIVE, paid subscription on the given plan, activated through the pipeline. */
async function activeMember(planId: string = PLAN_IDS.eliteMonthly) {
  const memberId = newMember();
  const s = h.paypal.createSubscription({ planId, customId: memberId });
  h.paypal.approve(s.id);
  await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
  expect(member(memberId)?.entitledTier).toBeTruthy();
  return { memberId, subId: s.id };
}

describe('lifecycle table', () => {
  it('BILLING.SUBSCRIPTION.CREATED records a pending subscription and grants nothing', async () => {
    const memberId = newMember();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CREATED', s.id));
    expect(sub(s.id)).toMatchObject({ state: 'pending', memberId, paypalStatus: 'APPROVAL_PENDING' });
    expect(member(memberId)?.entitledTier ?? null).toBeNull();
    expect(roleSyncJobs(memberId)).toHaveLength(0);
  });

  it('BILLING.SUBSCRIPTION.ACTIVATED grants the tier, enqueues one role sync and audits it', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.legendaryMonthly);
    expect(sub(subId)).toMatchObject({ state: 'active', tierKey: 'legendary', memberId });
    expect(member(memberId)).toMatchObject({ entitledTier: 'legendary', entitledSource: `subscription:${subId}` });
    expect(roleSyncJobs(memberId)).toHaveLength(1);
    const audit = db().select().from(auditEntries).where(and(eq(auditEntries.memberId, memberId), eq(auditEntries.kind, 'entitlement.changed'))).all();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.message).toContain(`<@${memberId}>`);
  });

  it('BILLING.SUBSCRIPTION.RE-ACTIVATED restores access after a suspension', async () => {
    const { memberId, subId } = await activeMember();
    h.paypal.setStatus(subId, 'SUSPENDED');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.SUSPENDED', subId));
    h.paypal.setStatus(subId, 'ACTIVE');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.RE-ACTIVATED', subId));
    expect(sub(subId)?.state).toBe('active');
    expect(member(memberId)?.entitledTier).toBe('elite');
  });

  it('PAYMENT.SALE.COMPLETED records the payment, extends paid-through and clears past-due', async () => {
    const { subId } = await activeMember();
    h.paypal.failPayment(subId);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', subId));
    expect(sub(subId)?.state).toBe('past_due');
    const before = sub(subId)?.paidThrough ?? 0;
    const sale = h.paypal.recordPayment(subId);
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
    const after = sub(subId);
    expect(after?.state).toBe('active');
    expect(after?.paidThrough ?? 0).toBeGreaterThan(before);
    expect(db().select().from(auditEntries).where(and(eq(auditEntries.subscriptionId, subId), eq(auditEntries.kind, 'payment.recorded'))).all()).toHaveLength(1);
  });

  it('BILLING.SUBSCRIPTION.PAYMENT.FAILED flags past-due and keeps access through the grace period only', async () => {
    const { memberId, subId } = await activeMember();
    h.paypal.failPayment(subId);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', subId));
    const s = sub(subId);
    expect(s?.state).toBe('past_due');
    expect(s?.graceUntil).toBeGreaterThan(h.now() + 2.9 * DAY);
    expect(member(memberId)?.entitledTier).toBe('elite');
    expect(db().select().from(auditEntries).where(and(eq(auditEntries.subscriptionId, subId), eq(auditEntries.kind, 'subscription.past_due'))).all()).toHaveLength(1);
    // PayPal's next retry is 5 days out; the 3-day grace ends first and the lapse check ends access.
    h.advance((s?.accessUntil ?? 0) - h.now() + 1000);
    await h.waitFor(() => member(memberId)?.entitledTier === null);
  });

  it('BILLING.SUBSCRIPTION.SUSPENDED ends access after the grace period', async () => {
    const { memberId, subId } = await activeMember();
    h.paypal.setStatus(subId, 'SUSPENDED');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.SUSPENDED', subId));
    const s = sub(subId);
    expect(s?.state).toBe('suspended');
    // Paid through next month, so access stays until then plus grace.
    expect(member(memberId)?.entitledTier).toBe('elite');
    expect(s?.accessUntil).toBe((s?.paidThrough ?? 0) + 3 * DAY);
    h.advance((s?.accessUntil ?? 0) - h.now() + 1000);
    await h.waitFor(() => member(memberId)?.entitledTier === null);
  });

  it('BILLING.SUBSCRIPTION.CANCELLED keeps access until paid-through (policy period_end), then lapses', async () => {
    const { memberId, subId } = await activeMember();
    h.paypal.setStatus(subId, 'CANCELLED');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    const s = sub(subId);
    expect(s?.state).toBe('cancelled');
    expect(s?.accessUntil).toBe(s?.paidThrough);
    expect(s?.accessUntil).toBeGreaterThan(h.now() + 20 * DAY);
    expect(member(memberId)?.entitledTier).toBe('elite');
    h.advance((s?.accessUntil ?? 0) - h.now() - 60_000);
    await h.settle();
    expect(member(memberId)?.entitledTier).toBe('elite'); // never earlier
    h.advance(61_000);
    await h.waitFor(() => member(memberId)?.entitledTier === null); // never later
  });

  it('BILLING.SUBSCRIPTION.EXPIRED lapses once paid-through has passed', async () => {
    const memberId = newMember();
    const paidAt = new Date(h.now() - 40 * DAY).toISOString();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId, status: 'EXPIRED', lastPaymentTime: paidAt, nextBillingTime: paidAt });
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.EXPIRED', s.id));
    expect(sub(s.id)?.state).toBe('expired');
    expect(member(memberId)?.entitledTier ?? null).toBeNull();
  });

  it('BILLING.SUBSCRIPTION.UPDATED to a higher plan changes nothing until a payment at its price completes', async () => {
    const { memberId, subId } = await activeMember(PLAN_IDS.eliteMonthly);
    const client = createPaypalClient({ clientId: 'test-client-id', clientSecret: 'test-client-secret', apiUrl: h.paypal.url, mode: 'sandbox', timeoutMs: 2000 });
    await client.reviseSubscription(subId, PLAN_IDS.titanMonthly, { returnUrl: 'https://members.example.test/paypal/return', cancelUrl: 'https://members.example.test/paypal/cancel' });
    h.paypal.approveRevision(subId);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', subId));
    expect(sub(subId)?.tierKey).toBe('titan');
    expect(member(memberId)?.entitledTier).toBe('elite');
    h.advance(60_000); // PayPal times have whole seconds: the renewal must not share the first payment's
    const sale = h.paypal.recordPayment(subId);
    expect(sale.amount).toBe('19.99');
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
    expect(member(memberId)?.entitledTier).toBe('titan');
  });

  it.each(['PAYMENT.SALE.REFUNDED', 'PAYMENT.SALE.REVERSED'] as const)('%s revokes at once although PayPal still reports ACTIVE', async (type) => {
    const { memberId, subId } = await activeMember();
    const sale = h.paypal.recordPayment(subId);
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
    if (type === 'PAYMENT.SALE.REFUNDED') h.paypal.refundSale(sale.id);
    else h.paypal.reverseSale(sale.id);
    await send(h.paypal.saleEvent(type, sale.id));
    expect(h.paypal.get(subId)?.status).toBe('ACTIVE');
    expect(sub(subId)).toMatchObject({ state: 'revoked' });
    expect(member(memberId)?.entitledTier ?? null).toBeNull();
    // A later notification that PayPal still says ACTIVE does not undo the revocation.
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', subId));
    expect(member(memberId)?.entitledTier ?? null).toBeNull();
  });

  it('CUSTOMER.DISPUTE at chargeback stage revokes; at inquiry stage changes nothing', async () => {
    const { memberId, subId } = await activeMember();
    const sale = h.paypal.recordPayment(subId);
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
    const inquiry = await send(h.paypal.disputeEvent('CUSTOMER.DISPUTE.CREATED', sale.id, 'INQUIRY'));
    expect(inquiry.outcome).toBe('ignored');
    expect(member(memberId)?.entitledTier).toBe('elite');
    await send(h.paypal.disputeEvent('CUSTOMER.DISPUTE.UPDATED', sale.id, 'CHARGEBACK'));
    expect(sub(subId)?.state).toBe('revoked');
    expect(member(memberId)?.entitledTier ?? null).toBeNull();
  });

  it('a later completed payment lifts a refund revocation', async () => {
    const { memberId, subId } = await activeMember();
    const first = h.paypal.recordPayment(subId);
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', first.id));
    h.paypal.refundSale(first.id);
    await send(h.paypal.saleEvent('PAYMENT.SALE.REFUNDED', first.id));
    expect(member(memberId)?.entitledTier ?? null).toBeNull();
    h.advance(60_000);
    const second = h.paypal.recordPayment(subId);
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', second.id));
    expect(sub(subId)?.state).toBe('active');
    expect(member(memberId)?.entitledTier).toBe('elite');
  });
});

describe('events are notifications', () => {
  it('a CANCELLED event about a subscription PayPal reports ACTIVE changes nothing', async () => {
    const { memberId, subId } = await activeMember();
    const forged = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId);
    (forged.resource as { status: string }).status = 'CANCELLED';
    await send(forged);
    expect(sub(subId)?.state).toBe('active');
    expect(member(memberId)?.entitledTier).toBe('elite');
    expect(roleSyncJobs(memberId)).toHaveLength(1);
  });

  it('the first event seen for a subscription, whatever its type, grants what PayPal reports', async () => {
    const memberId = newMember();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.titanYearly, customId: memberId });
    h.paypal.approve(s.id);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', s.id));
    expect(member(memberId)?.entitledTier).toBe('titan');
  });

  it('events in any order converge to the state PayPal reports, as PayPal moves on between deliveries', async () => {
    // PayPal emits CREATED, then ACTIVATED when the buyer approves, then CANCELLED; deliveries come late and out of
    // order, while PayPal's own state keeps moving. Each delivery, whatever its type, must leave what PayPal reports
    // at that moment, and the last one what PayPal reports last.
    type Step = 'approve' | 'cancel' | 'CREATED' | 'ACTIVATED' | 'CANCELLED';
    const schedules: Step[][] = [
      ['CREATED', 'approve', 'ACTIVATED', 'cancel', 'CANCELLED'],
      ['approve', 'ACTIVATED', 'CREATED', 'cancel', 'CANCELLED'],
      ['approve', 'ACTIVATED', 'cancel', 'CREATED', 'CANCELLED'],
      ['approve', 'cancel', 'CANCELLED', 'ACTIVATED', 'CREATED'],
      ['approve', 'CREATED', 'cancel', 'ACTIVATED', 'CANCELLED'],
    ];
    const expected: Record<string, string> = { APPROVAL_PENDING: 'pending', ACTIVE: 'active', CANCELLED: 'cancelled' };
    for (const schedule of schedules) {
      const memberId = newMember();
      const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
      const emitted = new Map<Step, WebhookEvent<unknown>>([['CREATED', h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CREATED', s.id)]]);
      for (const [i, step] of schedule.entries()) {
        const label = `${schedule.slice(0, i + 1).join(' → ')}`;
        if (step === 'approve') {
          h.paypal.approve(s.id);
          emitted.set('ACTIVATED', h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
        } else if (step === 'cancel') {
          h.advance(1000); // PayPal's status_update_time moves on
          h.paypal.setStatus(s.id, 'CANCELLED');
          emitted.set('CANCELLED', h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', s.id));
        } else {
          const event = emitted.get(step);
          if (event === undefined) throw new Error(`${label}: ${step} delivered before PayPal emitted it`);
          await send(event);
          expect(sub(s.id)?.state, label).toBe(expected[h.paypal.get(s.id)?.status ?? '']);
        }
      }
      expect(sub(s.id)?.state, schedule.join(' → ')).toBe('cancelled');
      expect(member(memberId)?.entitledTier, schedule.join(' → ')).toBe('elite'); // paid through next month
    }
  });

  it('links a never-seen subscription to its member through custom_id, and flags one without a valid custom_id', async () => {
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: 'not-a-discord-id' });
    h.paypal.approve(s.id);
    const row = await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
    expect(row.outcome).toBe('unlinked');
    expect(sub(s.id)?.memberId).toBeNull();
    expect(db().select().from(auditEntries).where(and(eq(auditEntries.subscriptionId, s.id), eq(auditEntries.kind, 'subscription.unlinked'))).all()).toHaveLength(1);
  });
});
