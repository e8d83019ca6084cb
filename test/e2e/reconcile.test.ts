import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReconcile } from '../../src/app/reconcile.ts';
import { LAST_RUN_KEY, scheduleReconcile } from '../../src/app/reconcile-schedule.ts';
import { createLogger } from '../../src/log.ts';
import { createPaypalClient, type PaypalClient } from '../../src/paypal/client.ts';
import { auditEntries, jobs, payments, subscriptions, webhookEvents } from '../../src/store/schema.ts';
import { getSyncState } from '../../src/store/sync-state-repo.ts';
import { startHarness, UNMANAGED_ROLE, type Harness } from '../helpers/harness.ts';
import { subscribeAndPay } from '../helpers/member-actions.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * Reconciliation end to end against both stand-ins, through the real SDK and
 * the real discord.js client: what PayPal did without a webhook reaching
 * Concierge is found and applied, an event PayPal sent that never arrived is
 * ingested through the inbox, managed roles nobody is entitled to are taken
 * back by role sync; a dry run changes nothing; PayPal down revokes nothing.
 * The scheduled run is the service's own job, driven by the harness clock.
 */

const HOUR = 3_600_000;
let h: Harness;
let paypal: PaypalClient;
let nextMember = 860000000000000000n;
const newMember = () => String(++nextMember);
/** On Discord before Concierge starts, holding Legendary with no entitlement anywhere. */
const squatter = newMember();

beforeAll(async () => {
  h = await startHarness({
    env: { RECONCILE_INTERVAL_MINUTES: '60' },
    overrides: { reconcilePacing: { paypalIntervalMs: 0, retryDelaysMs: [20, 20] } },
    discord: { members: [{ id: squatter, roles: [UNMANAGED_ROLE, ROLE_IDS.legendary] }] },
  });
  paypal = createPaypalClient({ clientId: h.paypal.clientId, clientSecret: h.paypal.clientSecret, apiUrl: h.paypal.url, mode: 'sandbox', timeoutMs: 2000, retryIntervalMs: 20 });
});
afterAll(async () => {
  paypal.close();
  await h.close();
});

const db = () => h.service.store.db;
const sub = (id: string) => db().select().from(subscriptions).where(eq(subscriptions.id, id)).get();
const inboxRow = (id: string) => db().select().from(webhookEvents).where(eq(webhookEvents.id, id)).get();
const rows = (t: typeof jobs | typeof auditEntries | typeof payments) => db().select({ n: count() }).from(t).get()?.n ?? 0;
const reconcile = (dryRun: boolean) =>
  runReconcile(
    { store: h.service.store, effects: h.service.effects, tiers: h.service.tiers, clock: h.now, log: createLogger('silent'), paypal, guild: h.service.guild, paypalIntervalMs: 0, retryDelaysMs: [20, 20] },
    { dryRun },
  );

/** A paying member in the guild, holding their tier role. */
async function payingMember(): Promise<{ memberId: string; subscriptionId: string }> {
  const memberId = newMember();
  h.discord.addMember(memberId);
  const subscriptionId = await subscribeAndPay(h, { memberId, planId: PLAN_IDS.eliteMonthly, roleId: ROLE_IDS.elite, paidAt: h.now() - 1000 });
  return { memberId, subscriptionId };
}

describe('reconcile', () => {
  it('finds a cancellation, a renewal that never arrived and a role nobody pays for; a dry run changes nothing, a real run fixes all three', async () => {
    const cancelled = await payingMember();
    const renewed = await payingMember();
    await h.settle();
    h.paypal.setStatus(cancelled.subscriptionId, 'CANCELLED');
    const sale = h.paypal.recordPayment(renewed.subscriptionId, new Date(h.now()));
    const lost = h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id);
    h.paypal.loseEvent(lost);
    // Another app's checkout on the same PayPal account: nothing Concierge acts on, so nothing to backfill.
    const foreign = h.paypal.event('CHECKOUT.ORDER.APPROVED', { id: '5O190127TN364715T' });
    h.paypal.loseEvent(foreign);

    const before = { jobs: rows(jobs), audit: rows(auditEntries), cancelled: sub(cancelled.subscriptionId), renewed: sub(renewed.subscriptionId) };
    const dry = await reconcile(true);
    expect(dry).toMatchObject({ dryRun: true, completed: true, failure: null });
    expect(dry.differences).toEqual(
      expect.arrayContaining([
        { check: 'events', subscriptionId: renewed.subscriptionId, memberId: null, difference: expect.stringContaining(`PAYMENT.SALE.COMPLETED ${lost.id}`), action: 'would ingest it and process it' },
        { check: 'paypal', subscriptionId: cancelled.subscriptionId, memberId: cancelled.memberId, difference: 'PayPal ACTIVE → CANCELLED; state active → cancelled', action: 'would apply what PayPal reports' },
        { check: 'discord', subscriptionId: null, memberId: squatter, difference: 'holds Legendary; entitled to none', action: 'would queue a role sync' },
      ]),
    );
    // Nothing moved: no row, no job, no audit entry, no role.
    expect({ jobs: rows(jobs), audit: rows(auditEntries), cancelled: sub(cancelled.subscriptionId), renewed: sub(renewed.subscriptionId) }).toEqual(before);
    expect(inboxRow(lost.id)).toBeUndefined();
    expect(dry.differences.some((d) => d.difference.includes(foreign.id))).toBe(false);
    expect(getSyncState(db(), 'paypal.last_event_time')).toBeNull();
    expect(h.discord.member(squatter)).toContain(ROLE_IDS.legendary);

    const real = await reconcile(false);
    expect(real).toMatchObject({ dryRun: false, completed: true });
    expect(real.differences.find((d) => d.memberId === squatter)).toMatchObject({ check: 'discord', action: 'role sync queued' });
    expect(sub(cancelled.subscriptionId)).toMatchObject({ state: 'cancelled', paypalStatus: 'CANCELLED' });
    // The lost sale went through the inbox and was processed like a delivery: the payment is recorded.
    await h.waitFor(() => inboxRow(lost.id)?.processedAt != null);
    expect(inboxRow(lost.id)?.transmissionId).toBe(`backfill:${lost.id}`);
    expect(inboxRow(foreign.id)).toBeUndefined();
    await h.waitFor(() => db().select().from(payments).where(eq(payments.id, sale.id)).get());
    await h.waitFor(() => !(h.discord.member(squatter) ?? []).includes(ROLE_IDS.legendary));
    expect(h.discord.member(squatter)).toEqual([h.discord.roleId(UNMANAGED_ROLE)]);
    // Cancelled with policy period_end: the paid month is kept, role and all.
    expect(h.discord.member(cancelled.memberId)).toContain(ROLE_IDS.elite);

    // The next run starts from the newest event seen (acted on or not: the foreign one may be a millisecond newer) and finds the store in line.
    expect(Number(getSyncState(db(), 'paypal.last_event_time'))).toBe(Math.max(Date.parse(lost.create_time), Date.parse(foreign.create_time)));
    await h.settle();
    const again = await reconcile(false);
    expect(again.differences).toEqual([]);
  });

  it('PayPal down: the run stops, says so, and revokes nothing (the Discord check does not run either)', async () => {
    const victim = await payingMember();
    await h.settle();
    h.paypal.setStatus(victim.subscriptionId, 'SUSPENDED');
    const holder = newMember();
    h.discord.addMember(holder, { roles: [ROLE_IDS.titan] });
    const outage = h.paypal.fault({ method: 'GET', path: /^\/v1\//, status: 500 });
    try {
      const r = await reconcile(false);
      expect(r.completed).toBe(false);
      expect(r.failure).toMatch(/^PayPal unreachable \(list webhook events, 3 attempt\(s\)\): .*500.*; nothing was revoked$/);
    } finally {
      outage.clear();
    }
    expect(sub(victim.subscriptionId)).toMatchObject({ state: 'active', paypalStatus: 'ACTIVE' });
    expect(h.discord.member(victim.memberId)).toContain(ROLE_IDS.elite);
    expect(h.discord.member(holder)).toContain(ROLE_IDS.titan);
  });

  it('runs by itself every hour of the service clock, queueing the next run first, and reports drift to the audit channel', async () => {
    const scheduled = () => db().select().from(jobs).where(eq(jobs.kind, 'reconcile')).all();
    // Queued at start-up; a second start (scheduleReconcile again) keeps the one queued run.
    const [first, ...none] = scheduled().filter((j) => j.status === 'queued');
    expect(none).toEqual([]);
    scheduleReconcile(h.service.store, h.now(), HOUR);
    expect(scheduled().filter((j) => j.status === 'queued').map((j) => [j.id, j.runAt])).toEqual([[first?.id, first?.runAt]]);

    const holder = newMember();
    h.discord.addMember(holder, { roles: [ROLE_IDS.warlord] });
    h.advance(HOUR);
    await h.waitFor(() => scheduled().find((j) => j.id === first?.id)?.status === 'done', 15_000);
    const next = scheduled().filter((j) => j.status === 'queued');
    expect(next).toHaveLength(1);
    expect(next[0]?.runAt).toBeGreaterThanOrEqual(h.now() + HOUR - 60_000);

    await h.waitFor(() => !(h.discord.member(holder) ?? []).includes(ROLE_IDS.warlord));
    const last = JSON.parse(getSyncState(db(), LAST_RUN_KEY) ?? '{}') as { completed: boolean; differences: { discord: number } };
    // The holder, and the one the PayPal outage left in place.
    expect(last).toMatchObject({ completed: true, differences: { discord: 2 } });
    const post = await h.discord.waitForMessage(h.discord.auditChannelId, (m) => m.embeds.some((e) => e.description?.includes(holder)));
    expect(post.embeds[0]?.description).toContain('holds Warlord; entitled to none');
  });
});
