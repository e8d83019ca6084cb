import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaypalClient } from '../../src/paypal/client.ts';
import { auditEntries, jobs, subscriptions, webhookEvents } from '../../src/store/schema.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * /subscribe end to end: the REAL discord.js client answering an interaction
 * from the Discord stand-in, the REAL PayPal SDK creating or revising the
 * subscription at the PayPal stand-in, the buyer following the approve link
 * and coming back through the return page, and the role on Discord.
 * Assertions are on what the member, PayPal and Discord saw.
 */

const DAY = 86_400_000;
/** The router's cooldown: a different /subscribe by the same member inside it is asked to wait. */
const COOLDOWN = 11_000;

let h: Harness;
let nextMember = 710000000000000000n;
beforeAll(async () => {
  // PayPal answers within 5 s here, so a 2 s delay slows /subscribe down without failing it.
  h = await startHarness({ env: { PAYPAL_TIMEOUT_MS: '5000' } });
});
afterAll(() => h.close());

interface Button {
  type: number;
  style: number;
  label?: string;
  url?: string;
}
interface Body {
  content?: string;
  embeds?: { title?: string; description?: string; fields?: { name: string; value: string }[]; footer?: { text: string } }[];
  components?: { components: Button[] }[];
}

const db = () => h.service.store.db;
const CREATE = /^\/v1\/billing\/subscriptions$/;
const rolePath = (memberId: string, roleId: string) => new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${roleId}$`);
const rows = (memberId: string) => db().select().from(subscriptions).where(eq(subscriptions.memberId, memberId)).all();
const creates = () => h.paypal.requests.filter((r) => r.method === 'POST' && CREATE.test(r.path));
const text = (b: Body | undefined) => [b?.content ?? '', ...(b?.embeds ?? []).flatMap((e) => [e.title ?? '', e.description ?? '', ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`), e.footer?.text ?? ''])].join('\n');
const linkOf = (b: Body | undefined) => b?.components?.[0]?.components[0];
const auditAbout = (memberId: string) => h.discord.messages(h.discord.auditChannelId).filter((m) => JSON.stringify(m.embeds).includes(memberId));

function guildMember(): string {
  const id = String(++nextMember);
  h.discord.addMember(id, { username: `buyer-${id.slice(-4)}` });
  return id;
}

/** Runs /subscribe and returns the first callback and the reply the member ends up with. */
async function subscribe(userId: string, options: Record<string, string>) {
  const handle = h.discord.interact({ type: 'command', name: 'subscribe', userId, options });
  const first = await handle.response();
  const [edit] = await handle.waitForEdits(1, 10_000);
  return { first, body: edit?.body as Body | undefined };
}

/** The buyer clicks the approve link: the stand-in approves and redirects to our return URL (PUBLIC_URL), which we call on the service itself. */
async function approveAndReturn(approveUrl: string): Promise<{ status: number; html: string }> {
  const res = await fetch(approveUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get('location') ?? '');
  expect(`${back.origin}${back.pathname}`).toBe('https://members.example.test/paypal/return');
  const page = await fetch(`${h.service.url}/paypal/return${back.search}`);
  return { status: page.status, html: await page.text() };
}

async function send(event: WebhookEvent<unknown>) {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
  await h.waitFor(() => db().select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt != null);
}

/** A member holding `tier` through /subscribe, the approve link and the return page. */
async function subscribedMember(tier: 'elite' | 'titan') {
  const memberId = guildMember();
  const { body } = await subscribe(memberId, { tier });
  const url = linkOf(body)?.url ?? '';
  await approveAndReturn(url);
  await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS[tier]));
  await h.settle();
  const sub = rows(memberId)[0];
  if (sub === undefined) throw new Error('no subscription stored');
  return { memberId, subId: sub.id };
}

describe('/subscribe', () => {
  it('answers in time while PayPal is slow; a double click makes ONE create call; the approve link is a link button', async () => {
    const memberId = guildMember();
    const before = creates().length;
    const slow = h.paypal.fault({ method: 'POST', path: '/v1/billing/subscriptions', delayMs: 2_000 });
    try {
      const one = h.discord.interact({ type: 'command', name: 'subscribe', userId: memberId, options: { tier: 'titan' } });
      const two = h.discord.interact({ type: 'command', name: 'subscribe', userId: memberId, options: { tier: 'titan' } });
      for (const handle of [one, two]) {
        const first = await handle.response();
        expect(first).toMatchObject({ type: 5, accepted: true, ephemeral: true });
        expect(first.elapsedMs).toBeLessThan(3_000);
      }
      const [[a], [b]] = await Promise.all([one.waitForEdits(1, 10_000), two.waitForEdits(1, 10_000)]);
      const bodyA = a?.body as Body | undefined;
      expect(linkOf(bodyA)).toMatchObject({ type: 2, style: 5, label: 'Pay with PayPal' });
      expect(linkOf(bodyA)?.url).toMatch(new RegExp(`^${h.paypal.url}/checkoutnow\\?ba_token=BA-`));
      expect(linkOf(b?.body as Body | undefined)?.url).toBe(linkOf(bodyA)?.url);
      expect(slow.hits).toBe(1);
    } finally {
      slow.clear();
    }

    const made = creates().slice(before);
    expect(made).toHaveLength(1);
    expect(made[0]?.body).toMatchObject({
      plan_id: PLAN_IDS.titanMonthly,
      custom_id: memberId,
      application_context: { return_url: 'https://members.example.test/paypal/return', cancel_url: 'https://members.example.test/paypal/cancel' },
    });
    expect(made[0]?.headers['paypal-request-id']).toMatch(/^concierge-subscribe-[0-9a-f]{40}$/);
    // Stored as pending with its approve link, linked to the member.
    expect(rows(memberId)).toEqual([expect.objectContaining({ state: 'pending', planId: PLAN_IDS.titanMonthly, tierKey: 'titan', customId: memberId, paypalStatus: 'APPROVAL_PENDING' })]);
    expect(rows(memberId)[0]?.approveUrl).toMatch(/checkoutnow\?ba_token=BA-/);
  });

  it('the reply names the tier, its price and what it unlocks (cumulative by rank)', async () => {
    const memberId = guildMember();
    const { body } = await subscribe(memberId, { tier: 'legendary' });
    const shown = text(body);
    expect(body?.embeds?.[0]?.title).toBe('Subscribe to Legendary');
    expect(shown).toContain('9.99 USD / month');
    expect(shown).toMatch(/Unlocks: .*Starter Scripts, Advanced Scripts/);
    const elite = await subscribe(guildMember(), { tier: 'elite' });
    expect(text(elite.body)).toMatch(/Unlocks: .*Starter Scripts/);
    expect(text(elite.body)).not.toContain('Advanced Scripts');
  });

  it('following the approve link grants the role before any webhook; the later ACTIVATED webhook changes nothing', async () => {
    const memberId = guildMember();
    const { body } = await subscribe(memberId, { tier: 'titan' });
    const page = await approveAndReturn(linkOf(body)?.url ?? '');
    expect(page.status).toBe(200);
    expect(page.html).toContain('You are now Titan in');
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.titan));
    expect(h.discord.member(memberId)).toContain(ROLE_IDS.titan);
    const subId = rows(memberId)[0]?.id ?? '';
    expect(rows(memberId)[0]).toMatchObject({ state: 'active' });
    // No webhook was involved.
    expect(db().select().from(webhookEvents).where(eq(webhookEvents.resourceId, subId)).all()).toEqual([]);
    await h.settle();
    await h.waitFor(() => auditAbout(memberId).length === 1);
    await h.discord.waitForDm(memberId);

    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', subId));
    await h.settle();
    await new Promise((r) => setTimeout(r, 200));
    await h.settle();
    expect(h.discord.callsTo('PUT', rolePath(memberId, ROLE_IDS.titan))).toBe(1);
    expect(auditAbout(memberId)).toHaveLength(1);
    expect(h.discord.dms(memberId)).toHaveLength(1);
    expect(db().select().from(auditEntries).where(and(eq(auditEntries.memberId, memberId), eq(auditEntries.kind, 'entitlement.changed'))).all()).toHaveLength(1);
  });

  it('a repeat after the cooldown reuses the pending checkout without calling PayPal', async () => {
    const memberId = guildMember();
    const first = await subscribe(memberId, { tier: 'elite' });
    const before = creates().length;
    h.advance(COOLDOWN);
    const again = await subscribe(memberId, { tier: 'elite' });
    expect(creates().length).toBe(before);
    expect(linkOf(again.body)?.url).toBe(linkOf(first.body)?.url);
    expect(text(again.body)).toMatch(/link from your earlier \/subscribe/);
  });

  it('the yearly plan of a tier with several plans', async () => {
    const memberId = guildMember();
    const { body } = await subscribe(memberId, { tier: 'titan', plan: 'yearly' });
    expect(creates().at(-1)?.body).toMatchObject({ plan_id: PLAN_IDS.titanYearly, custom_id: memberId });
    expect(text(body)).toContain('Plan: Yearly');
  });

  it('a plan the tier does not sell is refused, naming what it has; PayPal is not called', async () => {
    const before = creates().length;
    const { body } = await subscribe(guildMember(), { tier: 'elite', plan: 'yearly' });
    expect(body?.content).toMatch(/Elite is sold on one plan only \(4\.99 USD \/ month\)/);
    expect(creates().length).toBe(before);
  });

  it('a tier already held through a subscription: says so with the renewal date', async () => {
    const { memberId, subId } = await subscribedMember('elite');
    const before = h.paypal.requests.length;
    h.advance(COOLDOWN);
    const { body } = await subscribe(memberId, { tier: 'elite' });
    const renews = rows(memberId).find((r) => r.id === subId)?.nextBillingAt ?? 0;
    expect(renews).toBeGreaterThan(h.now());
    expect(body?.content).toContain('You already have **Elite**');
    expect(body?.content).toContain(`renews on <t:${Math.floor(renews / 1000)}:D>`);
    expect(linkOf(body)).toBeUndefined();
    expect(h.paypal.requests.length).toBe(before);
  });

  it('a staff grant is not a payment: a member holding the tier only through one gets a checkout, and keeps the grant', async () => {
    const memberId = guildMember();
    const until = h.now() + 7 * DAY;
    h.grantTier(memberId, 'legendary', until);
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.legendary));
    const before = creates().length;
    const { body } = await subscribe(memberId, { tier: 'legendary' });
    expect(body?.embeds?.[0]?.title).toBe('Subscribe to Legendary');
    expect(linkOf(body)?.url).toMatch(/checkoutnow/);
    expect(creates().length).toBe(before + 1);
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.legendary]);
  });

  it('instant upgrade elite → titan: one approval charges the prorated difference once, titan within seconds, the old subscription cancelled, the next renewal at the new price', async () => {
    const { memberId, subId: oldId } = await subscribedMember('elite');
    const paidThrough = rows(memberId)[0]?.paidThrough ?? 0;
    h.advance(COOLDOWN);
    const { body } = await subscribe(memberId, { tier: 'titan' });
    expect(body?.embeds?.[0]?.title).toBe('Upgrade to Titan now');
    // (19.99 − 4.99) per 30 days for the days left of the month Elite was paid for.
    const fee = Math.ceil(((1999 / 30 - 499 / 30) * (paidThrough - h.now())) / DAY) / 100;
    expect(text(body)).toContain(`pay **${fee.toFixed(2)} USD today**`);
    expect(text(body)).toContain('renews at **19.99 USD / month**');
    expect(text(body)).toContain(`<t:${Math.floor(paidThrough / 1000)}:D>`);
    // A new subscription on the higher plan, starting where Elite's paid period ends, the difference as its setup fee; no revise.
    const create = creates().filter((r) => (r.body as { custom_id?: string }).custom_id === memberId).at(-1);
    expect(create?.body).toMatchObject({ plan_id: PLAN_IDS.titanMonthly, start_time: new Date(paidThrough).toISOString(), plan: { payment_preferences: { setup_fee: { value: fee.toFixed(2), currency_code: 'USD' }, setup_fee_failure_action: 'CANCEL' } } });
    expect(h.paypal.requests.filter((r) => r.path.endsWith('/revise'))).toHaveLength(0);
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.elite]);

    const page = await approveAndReturn(linkOf(body)?.url ?? '');
    expect(page.status).toBe(200);
    const newId = rows(memberId).find((r) => r.id !== oldId)?.id ?? '';
    expect(h.paypal.get(newId)?.sales.map((x) => x.amount)).toEqual([fee.toFixed(2)]);
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.titan));
    await h.discord.waitForCalls('DELETE', rolePath(memberId, ROLE_IDS.elite));
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.titan]);
    await h.waitFor(() => h.paypal.get(oldId)?.status === 'CANCELLED');
    await h.settle();
    expect(rows(memberId).find((r) => r.id === oldId)?.state).toBe('cancelled');
    expect(rows(memberId).find((r) => r.id === newId)).toMatchObject({ state: 'active', paidPlanId: PLAN_IDS.titanMonthly, paidUntil: paidThrough, upgradeFrom: oldId });

    // /status says what happens next.
    h.advance(COOLDOWN);
    const status = h.discord.interact({ type: 'command', name: 'status', userId: memberId });
    const shown = JSON.stringify((await status.response()).data);
    expect(shown).toContain('Titan');
    expect(shown).toContain(`You upgraded and paid the difference up to <t:${Math.floor(paidThrough / 1000)}:D>; from then PayPal charges 19.99 USD each month.`);

    // The renewal at the old paid-through charges Titan's price, and Titan goes on.
    h.advance(paidThrough - h.now() + 1000);
    const renewal = h.paypal.recordPayment(newId);
    expect(renewal.amount).toBe('19.99');
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', renewal.id));
    await h.settle();
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.titan]);
    expect(h.paypal.get(oldId)?.sales).toHaveLength(1); // the old subscription billed nothing more
  });

  it('an upgrade whose setup fee fails at PayPal gives nothing and leaves the old subscription alone', async () => {
    const { memberId, subId: oldId } = await subscribedMember('elite');
    h.advance(COOLDOWN);
    const { body } = await subscribe(memberId, { tier: 'titan' });
    const newId = rows(memberId).find((r) => r.id !== oldId)?.id ?? '';
    h.paypal.approve(newId, { setupFeeFails: true });
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', newId));
    await h.settle();
    expect(linkOf(body)?.url).toMatch(/checkoutnow/);
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.elite]);
    expect(h.paypal.get(oldId)?.status).toBe('ACTIVE');
  });

  it('downgrade titan → elite: keeps titan until the paid-through date the reply states, then elite', async () => {
    const { memberId, subId } = await subscribedMember('titan');
    const paidThrough = rows(memberId)[0]?.paidThrough ?? 0;
    expect(paidThrough).toBeGreaterThan(h.now() + 20 * DAY);
    h.advance(COOLDOWN);
    const { body } = await subscribe(memberId, { tier: 'elite' });
    expect(body?.embeds?.[0]?.title).toBe('Change to Elite');
    expect(text(body)).toContain(`You keep Titan until <t:${Math.floor(paidThrough / 1000)}:D>`);

    // The buyer approves through the link and comes back: the change is applied, Titan stays.
    const page = await approveAndReturn(linkOf(body)?.url ?? '');
    expect(page.html).toContain('Your change to Elite is confirmed');
    expect(page.html).toContain('You keep Titan');
    await h.settle();
    expect(rows(memberId)[0]).toMatchObject({ planId: PLAN_IDS.eliteMonthly, paidPlanId: PLAN_IDS.titanMonthly, paidThrough });
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.titan]);
    expect(h.discord.callsTo('DELETE', rolePath(memberId, ROLE_IDS.titan))).toBe(0);

    // A day before the paid period ends: still Titan.
    h.advance(paidThrough - h.now() - DAY);
    await h.settle();
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.titan]);
    // Past it: Elite.
    h.advance(DAY + 60_000);
    await h.settle();
    await h.discord.waitForCalls('DELETE', rolePath(memberId, ROLE_IDS.titan));
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.elite]);
    expect(rows(memberId)[0]).toMatchObject({ id: subId, state: 'active' });
  });

  it('approved at Titan, then revised down to Elite at PayPal before Concierge heard of either: the Titan payment still buys Titan', async () => {
    const memberId = guildMember();
    const { body } = await subscribe(memberId, { tier: 'titan' });
    const subId = rows(memberId)[0]?.id ?? '';
    // The buyer approves (PayPal charges Titan's price) but never comes back to the return page, and no webhook arrives yet.
    expect((await fetch(linkOf(body)?.url ?? '', { redirect: 'manual' })).status).toBe(302);
    const paypal = createPaypalClient({ clientId: h.paypal.clientId, clientSecret: h.paypal.clientSecret, apiUrl: h.paypal.url, mode: 'sandbox', timeoutMs: 2000 });
    await paypal.reviseSubscription(subId, PLAN_IDS.eliteMonthly, { returnUrl: 'https://members.example.test/paypal/return', cancelUrl: 'https://members.example.test/paypal/cancel' });
    h.paypal.approveRevision(subId);
    paypal.close();

    // The first read shows Elite and a payment of 19.99: the subscription Concierge created at Titan was billed at Titan.
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', subId));
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.titan));
    expect(rows(memberId)[0]).toMatchObject({ planId: PLAN_IDS.eliteMonthly, paidPlanId: PLAN_IDS.titanMonthly, state: 'active' });
    expect(rows(memberId)[0]?.paidThrough).toBeGreaterThan(h.now() + 27 * DAY);
  });

  it.each([503, 500])('PayPal answering %i → a clear message with a reference id, nothing stored', async (status) => {
    const memberId = guildMember();
    const fault = h.paypal.fault({ method: 'POST', path: '/v1/billing/subscriptions', status });
    try {
      const { body } = await subscribe(memberId, { tier: 'warlord' });
      expect(body?.content).toMatch(/PayPal is not answering right now, so nothing was changed.*reference `[0-9a-f]{8}`/);
      expect(fault.hits).toBeGreaterThanOrEqual(1);
    } finally {
      fault.clear();
    }
    expect(rows(memberId)).toEqual([]);
    expect(db().select().from(jobs).where(eq(jobs.dedupeKey, memberId)).all()).toEqual([]);
    // And the member can try again at once (a failure does not hold the cooldown).
    const retry = await subscribe(memberId, { tier: 'warlord' });
    expect(linkOf(retry.body)?.url).toMatch(/checkoutnow/);
  });
});
