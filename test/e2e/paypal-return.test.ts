import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFRESH_DELAYS_MS } from '../../src/app/refresh-subscription.ts';
import { refreshSubscriptionJob } from '../../src/jobs/definitions.ts';
import { auditEntries, jobs, subscriptions } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * Where PayPal sends the buyer back: `/paypal/return` applies the
 * subscription at once (or hands it to the refresh job while PayPal has not
 * activated it, or is down), `/paypal/cancel` abandons a pending checkout.
 * Pages are friendly HTML, never a 5xx, never echoing the query.
 */

let h: Harness;
let nextMember = 720000000000000000n;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const rolePath = (memberId: string, roleId: string) => new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${roleId}$`);
const row = (id: string) => db().select().from(subscriptions).where(eq(subscriptions.id, id)).get();
const paypalCallsFor = (id: string) => h.paypal.requests.filter((r) => r.path.includes(id)).length;
const refreshJobs = (id: string) => db().select().from(jobs).where(and(eq(jobs.kind, refreshSubscriptionJob.kind), eq(jobs.dedupeKey, id))).all();

function guildMember(): string {
  const id = String(++nextMember);
  h.discord.addMember(id, { username: `buyer-${id.slice(-4)}` });
  return id;
}

async function get(path: string): Promise<{ status: number; html: string; type: string }> {
  const res = await fetch(`${h.service.url}${path}`);
  return { status: res.status, html: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** /subscribe through Discord; returns the stored pending checkout. */
async function checkout(memberId: string, tier = 'elite') {
  const handle = h.discord.interact({ type: 'command', name: 'subscribe', userId: memberId, options: { tier } });
  await handle.waitForEdits(1, 10_000);
  const sub = db().select().from(subscriptions).where(and(eq(subscriptions.memberId, memberId), eq(subscriptions.state, 'pending'))).get();
  if (sub?.approveUrl == null) throw new Error('no pending checkout stored');
  const baToken = new URL(sub.approveUrl).searchParams.get('ba_token') ?? '';
  return { id: sub.id, baToken };
}

describe('GET /paypal/return', () => {
  it('never echoes the query: a <script> id gets the friendly not-found page, phone-ready HTML', async () => {
    const evil = encodeURIComponent('<script>alert(1)</script>');
    const page = await get(`/paypal/return?subscription_id=${evil}&ba_token=${evil}&token=%22%3E%3Cimg%20src%3Dx%3E`);
    expect(page.status).toBe(404);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.html).toContain('<meta name="viewport"');
    expect(page.html).toContain('We could not find that subscription');
    expect(page.html).not.toMatch(/<script|alert\(1\)|<img/i);
    // Nothing reached PayPal or the queue for a malformed id.
    expect(h.paypal.requests.filter((r) => r.path.includes('script'))).toEqual([]);
  });

  it('an unknown subscription id → a friendly page (not a 5xx), no PayPal call and no job', async () => {
    const page = await get('/paypal/return?subscription_id=I-UNKNOWN0000000');
    expect(page.status).toBe(404);
    expect(page.html).toContain('We could not find that subscription');
    // Any well-formed id would otherwise make us call PayPal for whoever loads the URL.
    expect(paypalCallsFor('I-UNKNOWN0000000')).toBe(0);
    expect(refreshJobs('I-UNKNOWN0000000')).toEqual([]);
  });

  it('an ACTIVE subscription the store has never seen: the friendly page without a PayPal call; its webhook applies it through custom_id', async () => {
    const memberId = guildMember();
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly, customId: memberId });
    h.paypal.approve(s.id);
    const before = await get(`/paypal/return?subscription_id=${s.id}`);
    expect(before.status).toBe(404);
    expect(before.html).toContain('applied as soon as PayPal confirms it');
    expect(paypalCallsFor(s.id)).toBe(0);
    expect((await h.deliver(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id))).status).toBe(200);
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.legendary));
    await h.settle();
    // Now known: the page reads PayPal and names the tier; a reload changes nothing.
    expect((await get(`/paypal/return?subscription_id=${s.id}`)).html).toContain('You are now Legendary in Concierge Test Guild');
    await h.settle();
    expect(h.discord.callsTo('PUT', rolePath(memberId, ROLE_IDS.legendary))).toBe(1);
    expect(row(s.id)).toMatchObject({ state: 'active', memberId });
  });

  it('not approved yet → "within a minute"; the refresh job applies it once PayPal activates it', async () => {
    const memberId = guildMember();
    const { id } = await checkout(memberId);
    const page = await get(`/paypal/return?subscription_id=${id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('applied within a minute');
    expect(refreshJobs(id)).toEqual([expect.objectContaining({ status: 'queued', runAt: expect.any(Number) })]);
    expect((refreshJobs(id)[0]?.runAt ?? 0) - h.now()).toBeGreaterThan(15_000);

    h.paypal.approve(id);
    h.advance(REFRESH_DELAYS_MS[0] ?? 20_000);
    await h.settle();
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.elite));
    expect(row(id)?.state).toBe('active');
    expect(refreshJobs(id).map((j) => j.status)).toEqual(['done']);
  });

  it('a redirect without subscription_id finds the checkout by the ba_token in its approve link', async () => {
    const memberId = guildMember();
    const { id, baToken } = await checkout(memberId, 'legendary');
    h.paypal.approve(id);
    const page = await get(`/paypal/return?ba_token=${baToken}`);
    expect(page.html).toContain('You are now Legendary');
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.legendary));
  });

  it('a checkout never approved: the job reads PayPal a few times, then stops without a dead letter', async () => {
    const memberId = guildMember();
    const { id } = await checkout(memberId);
    await get(`/paypal/return?subscription_id=${id}`);
    for (let i = 0; i < REFRESH_DELAYS_MS.length + 2; i++) {
      h.advance(300_000);
      await h.settle();
    }
    const all = refreshJobs(id);
    expect(all).toHaveLength(REFRESH_DELAYS_MS.length);
    expect(all.every((j) => j.status === 'done')).toBe(true);
    expect(db().select().from(auditEntries).where(eq(auditEntries.kind, 'job.dead')).all()).toEqual([]);
    expect(row(id)?.state).toBe('pending');
  });

  it('PayPal down → a friendly page saying it will be applied; a refresh job only for a known id; applied once PayPal is back', async () => {
    const memberId = guildMember();
    const { id } = await checkout(memberId, 'titan');
    h.paypal.approve(id);
    const down = h.paypal.fault({ method: 'GET', path: /^\/v1\/billing\/subscriptions\//, status: 500 });
    try {
      const page = await get(`/paypal/return?subscription_id=${id}`);
      expect(page.status).toBe(200);
      expect(page.html).toContain('applied as soon as PayPal confirms it');
      expect(refreshJobs(id)).toHaveLength(1);
      const stranger = await get('/paypal/return?subscription_id=I-STRANGER000000');
      expect(stranger.status).toBe(404);
      expect(paypalCallsFor('I-STRANGER000000')).toBe(0);
      expect(refreshJobs('I-STRANGER000000')).toEqual([]);
    } finally {
      down.clear();
    }
    expect(h.discord.callsTo('PUT', rolePath(memberId, ROLE_IDS.titan))).toBe(0);
    h.advance(REFRESH_DELAYS_MS[0] ?? 20_000);
    await h.settle();
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.titan));
    expect(row(id)?.state).toBe('active');
  });
});

describe('/subscribe across a 15-minute boundary', () => {
  const QUARTER_MS = 15 * 60_000;
  const creates = (memberId: string) => h.paypal.requests.filter((r) => r.method === 'POST' && r.path === '/v1/billing/subscriptions' && (r.body as { custom_id?: string }).custom_id === memberId);
  const atPaypal = (memberId: string) => h.paypal.subscriptions().filter((s) => s.customId === memberId);
  /** Moves the shared clock to 1 s before the next quarter hour (PayPal-Request-Ids used to be bucketed by it); returns that boundary. */
  function justBeforeBoundary(): number {
    const boundary = (Math.floor(h.now() / QUARTER_MS) + 1) * QUARTER_MS;
    h.advance(boundary - h.now() - 1000);
    return boundary;
  }
  /** /subscribe elite; returns the reply's PayPal link, or its text when it has none. */
  async function subscribe(memberId: string): Promise<string> {
    const [edit] = await h.discord.interact({ type: 'command', name: 'subscribe', userId: memberId, options: { tier: 'elite' } }).waitForEdits(1, 10_000);
    const body = edit?.body as { content?: string; components?: { components?: { url?: string }[] }[] } | undefined;
    return body?.components?.[0]?.components?.[0]?.url ?? body?.content ?? '';
  }

  it('the first answer lost, the second click after the boundary: one PayPal-Request-Id, one subscription at PayPal', async () => {
    const memberId = guildMember();
    const boundary = justBeforeBoundary();
    // PayPal makes the subscription but answers after our timeout (PAYPAL_TIMEOUT_MS 1500): the member is told to try again.
    h.paypal.fault({ method: 'POST', path: '/v1/billing/subscriptions', delayMs: 2_500, times: 1 });
    expect(await subscribe(memberId)).toContain('PayPal is not answering right now');
    await h.waitFor(() => atPaypal(memberId).length === 1);
    h.advance(2_000);
    const second = await subscribe(memberId);
    const [first, again] = creates(memberId);
    // The two clicks really straddle the boundary (the stand-in records requests on the shared clock).
    expect(first?.at.getTime()).toBeLessThan(boundary);
    expect(again?.at.getTime()).toBeGreaterThanOrEqual(boundary);
    expect(again?.headers['paypal-request-id']).toBe(first?.headers['paypal-request-id']);
    const [only] = atPaypal(memberId);
    expect(atPaypal(memberId)).toHaveLength(1); // PayPal answered the repeat with the subscription it made the first time
    expect(second).toMatch(new RegExp(`[?&]ba_token=${only?.approvalToken ?? 'none'}$`)); // the member gets that subscription's link
    expect(db().select().from(subscriptions).where(eq(subscriptions.memberId, memberId)).all().map((r) => [r.id, r.state])).toEqual([[only?.id, 'pending']]);
  });

  it('a pending checkout offered again after the boundary: the same link, no second call to PayPal', async () => {
    const memberId = guildMember();
    const boundary = justBeforeBoundary();
    const first = await subscribe(memberId);
    h.advance(11_000); // the /subscribe cooldown
    expect(h.now()).toBeGreaterThan(boundary);
    expect(await subscribe(memberId)).toBe(first);
    expect(creates(memberId)).toHaveLength(1);
    expect(atPaypal(memberId)).toHaveLength(1);
  });
});

describe('GET /paypal/cancel', () => {
  it('marks the pending checkout abandoned (found by its ba_token); /subscribe later offers it again', async () => {
    const memberId = guildMember();
    const { id, baToken } = await checkout(memberId);
    const page = await get(`/paypal/cancel?ba_token=${baToken}&token=${baToken.replace(/^BA-/, '')}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('No payment was taken');
    expect(row(id)?.state).toBe('abandoned');

    h.advance(11_000); // the /subscribe cooldown
    const again = await checkout(memberId);
    expect(again.id).toBe(id); // the abandoned checkout's link is offered again, without a second subscription at PayPal
    expect(row(id)?.state).toBe('pending');
    const creates = h.paypal.requests.filter((r) => r.method === 'POST' && r.path === '/v1/billing/subscriptions' && (r.body as { custom_id?: string }).custom_id === memberId);
    expect(creates).toHaveLength(1); // offered again from the store (across a 15-minute boundary: see '/subscribe across a 15-minute boundary')
  });

  it('finds the checkout by subscription_id too', async () => {
    const { id } = await checkout(guildMember(), 'legendary');
    expect((await get(`/paypal/cancel?subscription_id=${id}`)).status).toBe(200);
    expect(row(id)?.state).toBe('abandoned');
  });

  it('leaves an active subscription alone (a declined plan change comes back here too)', async () => {
    const memberId = guildMember();
    const { id, baToken } = await checkout(memberId, 'warlord');
    h.paypal.approve(id);
    await get(`/paypal/return?subscription_id=${id}`);
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.warlord));
    const page = await get(`/paypal/cancel?subscription_id=${id}&ba_token=${baToken}`);
    expect(page.html).toContain('No payment was taken');
    expect(row(id)?.state).toBe('active');
    await h.settle();
    expect(h.discord.member(memberId)).toEqual([ROLE_IDS.warlord]);
  });

  it('is rate-limited per client IP with a friendly 429 page', async () => {
    const statuses: number[] = [];
    let limited: { html: string; type: string } | undefined;
    for (let i = 0; i < 40; i++) {
      const page = await get('/paypal/cancel');
      statuses.push(page.status);
      if (page.status === 429) limited ??= page;
    }
    expect(statuses).toContain(429);
    expect(limited?.type).toMatch(/^text\/html/);
    expect(limited?.html).toContain('Too many requests');
  });
});
