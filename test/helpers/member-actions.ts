import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { webhookEvents } from '../../src/store/schema.ts';
import type { CallbackRecord } from '../../src/stand-ins/discord/server.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import type { Harness } from './harness.ts';

/** What a member and PayPal do in end-to-end tests, and what the member then sees, on a harness. */

/** Delivers a signed event and waits until the pipeline has processed it. */
export async function deliverProcessed(h: Harness, event: WebhookEvent<unknown>): Promise<void> {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
  await h.waitFor(() => h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt != null);
}

/** A slash command's reply as the member sees it, answered directly (no defer) and ephemeral. */
export async function commandReply(h: Harness, name: string, userId: string): Promise<CallbackRecord> {
  const reply = await h.discord.interact({ type: 'command', name, userId }).response();
  expect(reply).toMatchObject({ type: 4, accepted: true, ephemeral: true });
  return reply;
}

/** The reply's first embed; fails the test when there is none. */
export function embedOf(r: CallbackRecord): NonNullable<NonNullable<CallbackRecord['data']>['embeds']>[number] {
  const e = r.data?.embeds?.[0];
  if (e === undefined) throw new Error(`no embed in ${JSON.stringify(r.data)}`);
  return e;
}

/**
 * The member subscribes and pays, told to Concierge the way PayPal does
 * (ACTIVATED, then the sale); resolves once the tier role is on. Returns
 * the PayPal subscription id.
 */
export async function subscribeAndPay(h: Harness, o: { memberId: string; planId: string; roleId: string; paidAt: number }): Promise<string> {
  const s = h.paypal.createSubscription({ planId: o.planId, customId: o.memberId, status: 'ACTIVE', lastPaymentTime: new Date(o.paidAt).toISOString() });
  await deliverProcessed(h, h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
  const sale = s.sales[0];
  if (sale === undefined) throw new Error('the stand-in recorded no sale');
  await deliverProcessed(h, h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
  await h.settle();
  await h.waitFor(() => h.discord.member(o.memberId)?.includes(o.roleId));
  return s.id;
}
