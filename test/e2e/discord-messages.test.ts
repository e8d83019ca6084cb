import { and, eq, like } from 'drizzle-orm';
import type { APIEmbed, APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS } from '../../src/jobs/backoff.ts';
import { dmJob } from '../../src/jobs/definitions.ts';
import { jobs, webhookEvents } from '../../src/store/schema.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS } from '../helpers/tiers.ts';

/** The audit channel and member DMs, end to end through the job queue and the real discord.js client. */

let h: Harness;
let nextMember = 610000000000000000n;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

function guildMember(): string {
  const id = String(++nextMember);
  h.discord.addMember(id, { username: `member-${id.slice(-4)}` });
  return id;
}

async function send(event: WebhookEvent<unknown>) {
  expect((await h.deliver(event)).status).toBe(200);
  await h.waitFor(() => h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt != null);
}

const embedsAbout = (memberId: string): APIEmbed[] =>
  h.discord
    .messages(h.discord.auditChannelId)
    .flatMap((m: APIMessage) => m.embeds)
    .filter((e) => (e.fields ?? []).some((f) => f.value.includes(`<@${memberId}>`)) || (e.description ?? '').includes(`<@${memberId}>`));
const dmTitles = (memberId: string) => h.discord.dms(memberId).flatMap((m: APIMessage) => m.embeds.map((e) => e.title ?? ''));

describe('audit channel', () => {
  it('an activation posts exactly one embed, with the member, the subscription and the event id', async () => {
    const memberId = guildMember();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.titanMonthly, customId: memberId });
    h.paypal.approve(s.id);
    const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
    await send(event);
    await h.waitFor(() => embedsAbout(memberId).length > 0);
    await h.settle();
    const embeds = embedsAbout(memberId);
    expect(embeds).toHaveLength(1);
    const values = (embeds[0]?.fields ?? []).map((f) => f.value);
    expect(values).toEqual(expect.arrayContaining([s.id, event.id]));
    expect(embeds[0]?.description).toMatch(/Titan/);
    // A redelivery posts nothing more.
    await h.deliver(event);
    await h.settle();
    expect(embedsAbout(memberId)).toHaveLength(1);
  });

  it('a failed payment and a cancellation are posted, colour-coded as warnings', async () => {
    const memberId = guildMember();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
    h.paypal.approve(s.id);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
    h.paypal.failPayment(s.id);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', s.id));
    h.paypal.setStatus(s.id, 'CANCELLED');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', s.id));
    await h.waitFor(() => embedsAbout(memberId).length >= 3);
    const titles = embedsAbout(memberId).map((e) => e.title);
    expect(titles).toEqual(expect.arrayContaining(['Payment failed', 'Subscription cancelled']));
    expect(embedsAbout(memberId).find((e) => e.title === 'Payment failed')?.color).toBe(0xfee75c);
  });
});

describe('member DMs', () => {
  it('welcome on activation, then payment failed with the grace end, then cancelled with the access end', async () => {
    const memberId = guildMember();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
    h.paypal.approve(s.id);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
    await h.waitFor(() => dmTitles(memberId).length >= 1);
    expect(dmTitles(memberId)[0]).toMatch(/Welcome to Elite/);
    h.paypal.failPayment(s.id);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.PAYMENT.FAILED', s.id));
    await h.waitFor(() => dmTitles(memberId).length >= 2);
    const failed = h.discord.dms(memberId)[1]?.embeds[0]?.description ?? '';
    expect(failed).toMatch(/<t:\d+:D>/);
    expect(failed).toMatch(/payment method/);
    h.paypal.setStatus(s.id, 'CANCELLED');
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', s.id));
    await h.waitFor(() => dmTitles(memberId).length >= 3);
    expect(dmTitles(memberId)[2]).toMatch(/cancelled/);
  });

  it('closed DMs are noted in the audit channel once and not retried', async () => {
    const memberId = guildMember();
    h.discord.closeDms(memberId);
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
    h.paypal.approve(s.id);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
    await h.waitFor(() => embedsAbout(memberId).some((e) => /do not accept direct messages/.test(e.description ?? '')));
    await h.settle();
    // discord.js caches the DM channel, so a retry would show only as another message POST to it (not another
    // POST /users/@me/channels), and the audit note is deduped per job: count the POSTs themselves.
    const dmChannel = h.discord.dmChannelId(memberId);
    if (dmChannel === undefined) throw new Error('the bot never opened a DM channel');
    const posts = () => h.discord.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${dmChannel}/messages`).length;
    expect(posts()).toBe(1);
    // Past the longest backoff a retry could wait (BACKOFF_CAP_MS), twice over: any retry would be due by now.
    h.advance(2 * BACKOFF_CAP_MS);
    await h.settle();
    h.advance(2 * BACKOFF_CAP_MS);
    await h.settle();
    expect(posts()).toBe(1);
    expect(h.service.store.db.select().from(jobs).where(and(eq(jobs.kind, dmJob.kind), like(jobs.payload, `%${memberId}%`))).all().map((j) => [j.status, j.attempts])).toEqual([['done', 1]]);
    expect(embedsAbout(memberId).filter((e) => /do not accept direct messages/.test(e.description ?? ''))).toHaveLength(1);
  });
});
