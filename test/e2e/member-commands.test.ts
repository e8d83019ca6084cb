import { and, eq } from 'drizzle-orm';
import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiscordDate } from '../../src/core/messages.ts';
import { auditEntries, jobs, subscriptions, webhookEvents } from '../../src/store/schema.ts';
import type { CallbackRecord } from '../../src/stand-ins/discord/server.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * /status, /scripts and /cancel end to end: the REAL discord.js client
 * against the Discord stand-in, the REAL PayPal SDK against the PayPal
 * stand-in, subscriptions set up through signed webhooks. Assertions are on
 * what the member sees (the interaction replies), what PayPal was asked,
 * and the roles the member holds on Discord.
 */

const DAY = 86_400_000;
let h: Harness;
let nextMember = 310000000000000000n;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const sub = (id: string) => db().select().from(subscriptions).where(eq(subscriptions.id, id)).get();
const audits = (subId: string) => db().select().from(auditEntries).where(eq(auditEntries.subscriptionId, subId)).all();
const cancelCalls = (subId: string) => h.paypal.requests.filter((r) => r.method === 'POST' && r.path === `/v1/billing/subscriptions/${subId}/cancel`);
const holds = (memberId: string) => h.discord.member(memberId) ?? [];
const rolePath = (memberId: string, roleId: string) => new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${roleId}$`);

function guildMember(): string {
  const id = String(++nextMember);
  h.discord.addMember(id, { username: `member-${id.slice(-4)}` });
  return id;
}

async function send(event: WebhookEvent<unknown>) {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
  await h.waitFor(() => db().select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt != null);
}

/** An ACTIVE subscription paid 5 days ago, told to Concierge the way PayPal does (ACTIVATED, then the sale); the role is on. */
async function subscriber(planId: string, roleId: string) {
  const memberId = guildMember();
  const paidAt = h.now() - 5 * DAY;
  const s = h.paypal.createSubscription({ planId, customId: memberId, status: 'ACTIVE', lastPaymentTime: new Date(paidAt).toISOString() });
  await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
  const sale = s.sales[0];
  if (sale === undefined) throw new Error('the stand-in recorded no sale');
  await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
  await h.settle();
  await h.waitFor(() => holds(memberId).includes(roleId));
  return { memberId, subId: s.id, paidAt, nextBilling: Date.parse(s.nextBillingTime ?? '') };
}

/** A command's reply as the member sees it (answered directly: no defer). */
async function command(name: 'status' | 'scripts' | 'cancel', userId: string): Promise<CallbackRecord> {
  const reply = await h.discord.interact({ type: 'command', name, userId }).response();
  expect(reply).toMatchObject({ type: 4, accepted: true, ephemeral: true });
  return reply;
}

const embedOf = (r: CallbackRecord) => {
  const e = r.data?.embeds?.[0];
  if (e === undefined) throw new Error(`no embed in ${JSON.stringify(r.data)}`);
  return e;
};
const field = (r: CallbackRecord, name: string) => embedOf(r).fields?.find((f) => f.name === name)?.value;

interface Button {
  custom_id: string;
  style: number;
  label: string;
}
const buttonsOf = (r: CallbackRecord): Button[] => (r.data?.components?.[0] as { components: Button[] } | undefined)?.components ?? [];

/** Clicks a button on the member's /cancel reply; returns what the message became. */
async function click(customId: string, userId: string): Promise<{ response: CallbackRecord; content: string | undefined }> {
  const handle = h.discord.interact({ type: 'button', customId, userId });
  const response = await handle.response();
  if (response.type === 6) {
    // Deferred update: the message is edited once the handler is done.
    const [edit] = await handle.waitForEdits(1, 8_000);
    return { response, content: edit?.body?.content };
  }
  return { response, content: response.data?.content };
}

/** /cancel for a subscriber: the question, with Confirm and Keep. */
async function askToCancel(memberId: string, subId: string) {
  const reply = await command('cancel', memberId);
  const [confirm, keep] = buttonsOf(reply);
  expect(confirm).toMatchObject({ style: ButtonStyle.Danger, custom_id: expect.stringMatching(new RegExp(`^cancel:${memberId}:\\d+:confirm:${subId}$`)) });
  expect(keep).toMatchObject({ style: ButtonStyle.Secondary, custom_id: expect.stringMatching(new RegExp(`^cancel:${memberId}:\\d+:keep:${subId}$`)) });
  return { reply, confirm: confirm?.custom_id ?? '', keep: keep?.custom_id ?? '' };
}

describe('/status and /scripts', () => {
  it('a subscriber sees tier, PayPal subscription, next billing, last payment; their scripts; no PayPal call', async () => {
    const { memberId, subId, paidAt, nextBilling } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const paypalCalls = h.paypal.requests.length;

    const status = await command('status', memberId);
    expect(status.elapsedMs).toBeLessThan(2_500); // answered directly within Discord's 3 s deadline (no defer needed: store only)
    expect(embedOf(status).title).toBe('Your membership: Elite');
    expect(field(status, 'Source')).toBe(`PayPal subscription \`${subId}\``);
    expect(field(status, 'State')).toBe('Active');
    expect(field(status, 'Next billing')).toBe(formatDiscordDate(nextBilling));
    expect(field(status, 'Last payment')).toBe(`4.99 USD on ${formatDiscordDate(paidAt)}`);
    expect(field(status, 'Scripts')).toBe('1 of 2 unlocked — see /scripts');

    const scripts = embedOf(await command('scripts', memberId));
    expect(scripts.description).toContain('**Unlocked with Elite** (1 of 2)\n• Starter Scripts');
    expect(scripts.description).toContain('• Advanced Scripts — needs Legendary');
    expect(h.paypal.requests.length).toBe(paypalCalls);
  });

  it('a member with a staff grant sees the grant and its end', async () => {
    const memberId = guildMember();
    const expiresAt = h.now() + 10 * DAY;
    h.grantTier(memberId, 'legendary', expiresAt);

    const status = await command('status', memberId);
    expect(embedOf(status).title).toBe('Your membership: Legendary');
    expect(field(status, 'Source')).toBe('Staff grant');
    expect(field(status, 'Access until')).toBe(formatDiscordDate(expiresAt));
    expect(embedOf(await command('scripts', memberId)).description).toContain('**Unlocked with Legendary** (2 of 2)');
    // Nothing to cancel at PayPal.
    expect((await command('cancel', memberId)).data?.content).toMatch(/granted by staff.*nothing to cancel/);
  });

  it('a member with nothing sees the tiers with prices and how to subscribe; every script locked', async () => {
    const memberId = guildMember();
    const status = embedOf(await command('status', memberId));
    expect(status.title).toBe('No membership');
    expect(status.description).toContain('/subscribe');
    expect(status.fields?.map((f) => [f.name, f.value.split('\n')[0]])).toEqual([
      ['Elite', '4.99 USD / month'],
      ['Legendary', '9.99 USD / month'],
      ['Titan', '19.99 USD / month or 199.99 USD / year'],
      ['Warlord', '49.99 USD / month'],
    ]);
    const scripts = embedOf(await command('scripts', memberId));
    expect(scripts.description).toMatch(/every script is locked/);
    expect(scripts.description).toContain('• Starter Scripts — needs Elite');
    expect((await command('cancel', memberId)).data?.content).toMatch(/no PayPal subscription to cancel/);
  });
});

describe('/cancel', () => {
  it('Confirm cancels at PayPal once, keeps the role until paid-through, the later webhook changes nothing, then the lapse check removes the role', async () => {
    const { memberId, subId, nextBilling } = await subscriber(PLAN_IDS.legendaryMonthly, ROLE_IDS.legendary);
    const { reply, confirm } = await askToCancel(memberId, subId);
    expect(embedOf(reply).description).toContain(`You keep **Legendary** until ${formatDiscordDate(nextBilling)}`);
    expect(confirm.length).toBeLessThanOrEqual(100);

    const { response, content } = await click(confirm, memberId);
    expect(response.type).toBe(6); // deferred: PayPal is called
    expect(content).toBe(`Cancelled. You keep **Legendary** until ${formatDiscordDate(nextBilling)}. Nothing more will be charged; use \`/subscribe\` to start again.`);
    expect(cancelCalls(subId)).toHaveLength(1);
    expect(cancelCalls(subId)[0]?.body).toEqual({ reason: 'Cancelled by the member from Discord' });
    expect(h.paypal.get(subId)?.status).toBe('CANCELLED');
    expect(sub(subId)).toMatchObject({ state: 'cancelled', accessUntil: nextBilling });
    // One audit entry for the cancellation, saying who did it.
    expect(audits(subId).filter((a) => a.kind.includes('cancel')).map((a) => [a.kind, a.message])).toEqual([['subscription.cancelled', expect.stringContaining('by the member from Discord')]]);
    await h.settle();
    await h.discord.waitForDm(memberId, (m) => m.embeds[0]?.title === 'Your membership was cancelled');
    expect(holds(memberId)).toContain(ROLE_IDS.legendary);

    // PayPal's own CANCELLED webhook arrives later: the state is already applied.
    const before = { audits: audits(subId).length, jobs: db().select().from(jobs).all().length };
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    await h.settle();
    expect(audits(subId)).toHaveLength(before.audits);
    expect(db().select().from(jobs).all().length - before.jobs).toBe(1); // only the webhook's own processing job
    expect(h.discord.dms(memberId).filter((m) => m.embeds[0]?.title === 'Your membership was cancelled')).toHaveLength(1);

    // /status and /cancel now say it is cancelled, with the end date (answering the question ended /cancel's cooldown).
    expect(field(await command('status', memberId), 'Access until')).toBe(formatDiscordDate(nextBilling));
    expect((await command('cancel', memberId)).data?.content).toBe(`Your subscription \`${subId}\` is already cancelled. You keep **Legendary** until ${formatDiscordDate(nextBilling)}.`);

    // Just before paid-through the role stays; just after, the lapse check removes it.
    h.advance(nextBilling - h.now() - 60_000);
    await h.settle();
    expect(holds(memberId)).toContain(ROLE_IDS.legendary);
    h.advance(61_000);
    await h.settle();
    await h.discord.waitForCalls('DELETE', rolePath(memberId, ROLE_IDS.legendary));
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.legendary));
    expect(embedOf(await command('status', memberId)).title).toBe('No membership');
  });

  it('Keep changes nothing', async () => {
    const { memberId, subId } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const { keep } = await askToCancel(memberId, subId);
    const { content } = await click(keep, memberId);
    expect(content).toBe('Nothing changed; your membership continues.');
    expect(cancelCalls(subId)).toHaveLength(0);
    expect(sub(subId)?.state).toBe('active');
    expect(h.paypal.get(subId)?.status).toBe('ACTIVE');
  });

  it('an expired confirmation is refused without calling PayPal', async () => {
    const { memberId, subId } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const { confirm } = await askToCancel(memberId, subId);
    h.advance(5 * 60_000 + 5_000);
    const { response, content } = await click(confirm, memberId);
    expect(response.type).toBe(7);
    expect(content).toBe('This confirmation expired; run /cancel again.');
    expect(response.data?.components).toEqual([]);
    expect(cancelCalls(subId)).toHaveLength(0);
    expect(sub(subId)?.state).toBe('active');
  });

  it('another member cannot use someone’s Confirm button', async () => {
    const { memberId, subId } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const intruder = guildMember();
    const { confirm } = await askToCancel(memberId, subId);
    // The reply is ephemeral: Discord does not even show it to anyone else.
    expect(() => h.discord.interact({ type: 'button', customId: confirm, userId: intruder })).toThrow(/no message has a component/);
    // The same custom id on a message the intruder can see (as if copied into a channel): the router refuses.
    const channel = await h.service.discord.client.channels.fetch(h.discord.generalChannelId);
    if (!channel?.isSendable()) throw new Error('general channel not sendable');
    await channel.send({ content: 'copied', components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Cancel', customId: confirm }] }] });
    const refused = await h.discord.interact({ type: 'button', customId: confirm, userId: intruder }).response();
    expect(refused).toMatchObject({ type: 4, ephemeral: true });
    expect(refused.data?.content).toMatch(/belongs to someone else/);
    expect(cancelCalls(subId)).toHaveLength(0);
    expect(sub(subId)?.state).toBe('active');
  });

  it('already cancelled at PayPal (422): re-read and applied, and the member is told', async () => {
    const { memberId, subId } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const { confirm } = await askToCancel(memberId, subId);
    // Cancelled from the buyer's PayPal account; the webhook has not arrived yet.
    h.paypal.setStatus(subId, 'CANCELLED');
    const { content } = await click(confirm, memberId);
    expect(content).toMatch(/^This subscription was already cancelled\. You keep \*\*Elite\*\* until <t:\d+:D>\.$/);
    expect(h.paypal.requests.filter((r) => r.path.endsWith(`${subId}/cancel`)).map((r) => r.method)).toEqual(['POST']);
    expect(sub(subId)?.state).toBe('cancelled');
    // Recorded once, as PayPal's cancellation: not as the member's doing (the member's cancel names them, see Confirm above).
    const cancellations = audits(subId).filter((a) => a.kind.includes('cancel'));
    expect(cancellations.map((a) => a.kind)).toEqual(['subscription.cancelled']);
    expect(cancellations[0]?.message).not.toMatch(/by the member|from Discord/);
    expect(holds(memberId)).toContain(ROLE_IDS.elite);
  });

  it('PayPal refusing the cancel of a subscription it still reports active: an error with a reference id, nothing changes', async () => {
    const { memberId, subId } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const { confirm } = await askToCancel(memberId, subId);
    const auditsBefore = audits(subId).length;
    const body = { name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed.', debug_id: 'f00d', details: [{ issue: 'SUBSCRIPTION_STATUS_INVALID' }] };
    const fault = h.paypal.fault({ method: 'POST', path: /\/cancel$/, status: 422, body, times: 1 });
    const { content } = await click(confirm, memberId);
    expect(fault.hits).toBe(1);
    expect(content).toMatch(/^Something went wrong on our side and nothing was changed\..*reference `[0-9a-f]{8}`/);
    expect(sub(subId)?.state).toBe('active');
    expect(audits(subId)).toHaveLength(auditsBefore); // nothing recorded: not a cancellation, not the member's either
  });

  it('cancelled at PayPal but the re-read fails: the member is told it was accepted, and PayPal’s webhook applies it', async () => {
    const { memberId, subId, nextBilling } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const { confirm } = await askToCancel(memberId, subId);
    const fault = h.paypal.fault({ method: 'GET', path: new RegExp(`^/v1/billing/subscriptions/${subId}$`), status: 500, times: 1 });
    const { content } = await click(confirm, memberId);
    expect(fault.hits).toBe(1);
    expect(content).toMatch(/PayPal accepted the cancellation/);
    expect(h.paypal.get(subId)?.status).toBe('CANCELLED');
    expect(audits(subId).map((a) => a.kind)).toContain('subscription.member_cancelled');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    expect(sub(subId)).toMatchObject({ state: 'cancelled', accessUntil: nextBilling });
    expect(holds(memberId)).toContain(ROLE_IDS.elite);
  });

  it('PayPal down on Confirm: a clear message with a reference id, and nothing changes', async () => {
    const { memberId, subId } = await subscriber(PLAN_IDS.eliteMonthly, ROLE_IDS.elite);
    const { confirm } = await askToCancel(memberId, subId);
    const auditsBefore = audits(subId).length;
    const fault = h.paypal.fault({ method: 'POST', path: /\/cancel$/, status: 503 });
    try {
      const { content } = await click(confirm, memberId);
      expect(content).toMatch(/^PayPal is not answering right now, so nothing was changed\. Please try again in a few minutes\. \(reference `[0-9a-f]{8}`\)$/);
    } finally {
      fault.clear();
    }
    expect(fault.hits).toBe(1); // a cancel is a POST: never retried blindly
    expect(sub(subId)?.state).toBe('active');
    expect(h.paypal.get(subId)?.status).toBe('ACTIVE');
    expect(audits(subId)).toHaveLength(auditsBefore);
    expect(db().select().from(jobs).where(and(eq(jobs.kind, 'dm'), eq(jobs.payload, JSON.stringify({ memberId, kind: 'cancelled' })))).all()).toHaveLength(0);
    // The member can try again once PayPal answers (a fresh /cancel: the cooldown does not hold a failure).
    const again = await askToCancel(memberId, subId);
    expect((await click(again.confirm, memberId)).content).toMatch(/^Cancelled\./);
  });
});
