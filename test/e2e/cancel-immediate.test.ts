import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { members, subscriptions, webhookEvents } from '../../src/store/schema.ts';
import type { CallbackRecord } from '../../src/stand-ins/discord/server.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS, TIERS_FIXTURE_PATH } from '../helpers/tiers.ts';

/**
 * Policy `on_cancel: immediate` end to end (SPEC lifecycle table: a
 * cancellation revokes access now instead of at paid-through): a member who
 * paid for the month loses the role as soon as the cancellation is known,
 * whether PayPal tells us or the member cancels from Discord.
 */

const DAY = 86_400_000;
let h: Harness;
let dir: string;
let nextMember = 330000000000000000n;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concierge-immediate-'));
  const tiersFile = join(dir, 'tiers.yaml');
  writeFileSync(tiersFile, readFileSync(TIERS_FIXTURE_PATH, 'utf8').replace('on_cancel: period_end', 'on_cancel: immediate'));
  h = await startHarness({ env: { TIERS_FILE: tiersFile } });
  expect(h.service.tiers.current().policy.on_cancel).toBe('immediate');
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

const db = () => h.service.store.db;
const sub = (id: string) => db().select().from(subscriptions).where(eq(subscriptions.id, id)).get();
const tierOf = (memberId: string) => db().select().from(members).where(eq(members.discordUserId, memberId)).get()?.entitledTier ?? null;
const holds = (memberId: string) => h.discord.member(memberId) ?? [];
const roleDeletes = (memberId: string, roleId: string) => h.discord.callsTo('DELETE', new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${roleId}$`));

async function send(event: WebhookEvent<unknown>) {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
  await h.waitFor(() => db().select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt != null);
}

/** An ACTIVE subscription paid 5 days ago (so paid through ~25 more days), applied the way PayPal tells it; the role is on. */
async function subscriber() {
  const memberId = String(++nextMember);
  h.discord.addMember(memberId, { username: `member-${memberId.slice(-4)}` });
  const s = h.paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly, customId: memberId, status: 'ACTIVE', lastPaymentTime: new Date(h.now() - 5 * DAY).toISOString() });
  await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
  const sale = s.sales[0];
  if (sale === undefined) throw new Error('the stand-in recorded no sale');
  await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
  await h.settle();
  await h.waitFor(() => holds(memberId).includes(ROLE_IDS.legendary));
  expect(sub(s.id)?.paidThrough).toBeGreaterThan(h.now() + 20 * DAY);
  return { memberId, subId: s.id };
}

const statusTitle = async (memberId: string) => (await h.discord.interact({ type: 'command', name: 'status', userId: memberId }).response()).data?.embeds?.[0]?.title;

describe('policy on_cancel: immediate', () => {
  it('cancelled at PayPal: the paid-for role goes as soon as the webhook is processed, and the member is told', async () => {
    const { memberId, subId } = await subscriber();
    h.paypal.setStatus(subId, 'CANCELLED');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    // No clock advance: the role goes now, not at paid-through.
    await h.settle();
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.legendary));
    expect(roleDeletes(memberId, ROLE_IDS.legendary)).toBe(1);
    expect(sub(subId)).toMatchObject({ state: 'cancelled' });
    expect(sub(subId)?.accessUntil).toBeLessThanOrEqual(h.now());
    expect(tierOf(memberId)).toBeNull();
    await h.discord.waitForDm(memberId, (m) => m.embeds[0]?.title === 'Your membership was cancelled');
    expect(await statusTitle(memberId)).toBe('No membership');
  });

  it('/cancel from Discord: the question says access ends now, Confirm cancels at PayPal once and the role goes at once', async () => {
    const { memberId, subId } = await subscriber();
    const question: CallbackRecord = await h.discord.interact({ type: 'command', name: 'cancel', userId: memberId }).response();
    expect(question.data?.embeds?.[0]?.description).toContain('Your access ends now.');
    const confirm = (question.data?.components?.[0] as { components: { custom_id: string }[] } | undefined)?.components[0]?.custom_id ?? '';
    expect(confirm).toMatch(new RegExp(`^cancel:${memberId}:\\d+:confirm:${subId}$`));
    const click = h.discord.interact({ type: 'button', customId: confirm, userId: memberId });
    const [edit] = await click.waitForEdits(1, 8_000);
    expect(edit?.body?.content).toBe('Cancelled. Nothing more will be charged and your access has ended. Use `/subscribe` whenever you want it back.');
    expect(h.paypal.requests.filter((r) => r.method === 'POST' && r.path === `/v1/billing/subscriptions/${subId}/cancel`)).toHaveLength(1);
    await h.settle();
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.legendary));
    expect(roleDeletes(memberId, ROLE_IDS.legendary)).toBe(1);
    expect(tierOf(memberId)).toBeNull();
    // PayPal's own CANCELLED webhook, later, changes nothing more.
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    await h.settle();
    expect(roleDeletes(memberId, ROLE_IDS.legendary)).toBe(1);
    const cancelledDms = h.discord.dms(memberId).filter((m) => m.embeds[0]?.title === 'Your membership was cancelled');
    expect(cancelledDms).toHaveLength(1);
    // Under on_cancel: immediate the DM says access has ended, not "you keep access until <today>".
    expect(cancelledDms[0]?.embeds[0]?.description).toContain('Your access has ended.');
  });
});
