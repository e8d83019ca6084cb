import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, payments, webhookEvents } from '../../src/store/schema.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * Found by the crash suite: a payment's PAYMENT.SALE.COMPLETED processed only
 * after the sale was refunded (delivered late, or queued behind a crash's
 * backlog). PayPal then lists the sale REFUNDED; Concierge called the event
 * unconfirmed (a security alert), never recorded the sale, and the refund's
 * own event, which can only find the subscription through that record,
 * retried for a day: the member kept the tier they had been refunded for.
 */

let h: Harness;
let nextMember = 520000000000000000n;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const processed = (id: string) => db().select().from(webhookEvents).where(eq(webhookEvents.id, id)).get()?.processedAt != null;

async function deliver(event: WebhookEvent<unknown>) {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
}

/** A member holding Titan through an activation Concierge processed, whose first payment PayPal then refunds or reverses. */
async function paidThenTakenBack(how: 'refund' | 'reverse') {
  const memberId = String(++nextMember);
  h.discord.addMember(memberId);
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.titanMonthly, customId: memberId });
  const sale = h.paypal.approve(s.id);
  await deliver(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
  await h.waitFor(() => h.discord.member(memberId)?.includes(ROLE_IDS.titan));
  const completed = h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id);
  if (how === 'refund') h.paypal.refundSale(sale.id);
  else h.paypal.reverseSale(sale.id);
  const takenBack = h.paypal.saleEvent(how === 'refund' ? 'PAYMENT.SALE.REFUNDED' : 'PAYMENT.SALE.REVERSED', sale.id);
  return { memberId, subId: s.id, sale, completed, takenBack };
}

const auditKinds = (memberId: string) =>
  db()
    .select({ kind: auditEntries.kind })
    .from(auditEntries)
    .where(eq(auditEntries.memberId, memberId))
    .all()
    .map((a) => a.kind);

describe('a sale event processed after PayPal took the sale back', () => {
  it.each(['refund', 'reverse'] as const)('COMPLETED then the %s event: access is revoked once, no security alert', async (how) => {
    const m = await paidThenTakenBack(how);
    await deliver(m.completed);
    await h.waitFor(() => processed(m.completed.id));
    await h.waitFor(() => (h.discord.member(m.memberId)?.includes(ROLE_IDS.titan) === false ? true : undefined));
    expect(db().select().from(payments).where(eq(payments.id, m.sale.id)).get()?.state).toBe(how === 'refund' ? 'refunded' : 'reversed');

    await deliver(m.takenBack);
    await h.waitFor(() => processed(m.takenBack.id));
    await h.settle();
    expect(h.discord.member(m.memberId)).toEqual([]);
    const kinds = auditKinds(m.memberId);
    expect(kinds.filter((k) => k === 'subscription.revoked')).toHaveLength(1);
    expect(kinds.filter((k) => k.includes('unconfirmed'))).toEqual([]);
  });

  it('the first event Concierge sees of a subscription is the COMPLETED of a sale already refunded: nothing is granted, announced or DMed on the way', async () => {
    const memberId = String(++nextMember);
    h.discord.addMember(memberId);
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.titanMonthly, customId: memberId });
    const sale = h.paypal.approve(s.id);
    const completed = h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id);
    h.paypal.refundSale(sale.id);
    await deliver(completed);
    await h.waitFor(() => processed(completed.id));
    await h.settle();
    expect(h.discord.member(memberId)).toEqual([]);
    expect(h.discord.callsTo('PUT', new RegExp(`/members/${memberId}/roles/`))).toBe(0);
    expect(h.discord.dms(memberId)).toEqual([]);
    expect(auditKinds(memberId)).toEqual(['subscription.revoked']);
  });

  it('the refund event first, then the late COMPLETED: the refund waits for the sale, then both are processed', async () => {
    const m = await paidThenTakenBack('refund');
    await deliver(m.takenBack);
    await deliver(m.completed);
    // The refund's job retries (1 s backoff, jittered) until the sale is recorded by the COMPLETED event.
    await h.waitFor(() => processed(m.completed.id) && processed(m.takenBack.id), 15_000);
    await h.settle();
    expect(h.discord.member(m.memberId)).toEqual([]);
    const kinds = auditKinds(m.memberId);
    expect(kinds.filter((k) => k === 'subscription.revoked')).toHaveLength(1);
    expect(kinds.filter((k) => k.includes('unconfirmed'))).toEqual([]);
  });
});
