import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeMember } from '../../src/app/recompute-member.ts';
import { loadConfig } from '../../src/config.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { createLogger } from '../../src/log.ts';
import { startServiceWithParts, type Service, type ServiceParts } from '../../src/service.ts';
import { createPaypalStandIn, type PaypalStandIn, type WebhookEvent } from '../../src/stand-ins/paypal/server.ts';
import type { DiscordStandIn } from '../../src/stand-ins/discord/server.ts';
import { insertGrant } from '../../src/store/grant-repo.ts';
import { ensureMember, getMember } from '../../src/store/member-repo.ts';
import { webhookEvents } from '../../src/store/schema.ts';
import { createTestDiscord, discordEnv, TEST_WEBHOOK_ID, testEnv } from '../helpers/harness.ts';
import { FIXTURE_PLANS, PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * The standing schedules against the running service and a clock the test
 * moves: the expiry warning three days before access that will not renew
 * ends (once, across a restart), the daily backup, and retention.
 */

const HOUR = 3_600_000;
let offset = 0;
const now = () => Date.now() + offset;
let paypal: PaypalStandIn;
let discord: DiscordStandIn;
let dir: string;
let running: (Service & ServiceParts) | null = null;

async function start(): Promise<Service & ServiceParts> {
  const config = loadConfig(testEnv(paypal.url, join(dir, 'concierge.db'), discordEnv(discord)));
  const { service, parts } = await startServiceWithParts(config, createLogger('silent'), { clock: now, pollMs: 20 });
  running = { ...service, ...parts };
  return running;
}
const service = (): Service & ServiceParts => {
  if (running === null) throw new Error('service not started');
  return running;
};

/** Moves the clock and runs whatever became due. */
async function advance(ms: number): Promise<void> {
  offset += ms;
  service().wake();
  await service().runner.runUntilIdle();
}

async function deliverProcessed(event: WebhookEvent<unknown>): Promise<void> {
  const res = await paypal.deliver(event, { url: `${service().url}/webhooks/paypal`, webhookId: TEST_WEBHOOK_ID, transmissionTime: new Date(now()).toISOString() });
  expect(res.status, res.body).toBe(200);
  await expect.poll(() => service().store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt ?? null).not.toBeNull();
  await service().runner.runUntilIdle();
}

function grant(memberId: string, tierKey: string, expiresAt: number): void {
  const s = service();
  s.store.transaction((tx) => {
    ensureMember(tx, memberId, now());
    insertGrant(tx, { memberId, tierKey, grantedBy: discord.ownerId, reason: 'test grant', startsAt: now() - 1000, expiresAt }, now());
    recomputeMember(tx, s.effects, memberId, s.tiers.current(), now(), { reason: 'staff grant' });
  });
  s.wake();
}

const warnings = (memberId: string) => discord.dms(memberId).flatMap((m) => m.embeds).filter((e) => e.title === 'Your membership ends soon');

beforeAll(async () => {
  paypal = await createPaypalStandIn({ now: () => new Date(now()), plans: FIXTURE_PLANS });
  discord = await createTestDiscord();
  dir = mkdtempSync(join(tmpdir(), 'concierge-schedules-'));
  await start();
});
afterAll(async () => {
  await running?.close();
  await paypal.close();
  await discord.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('expiry warning', { timeout: 60_000 }, () => {
  it('warns three days before a timed grant or a cancelled subscription ends, once across a restart; not a grant shorter than three days', async () => {
    const longGrant = '300000000000000101';
    const shortGrant = '300000000000000102';
    const cancelled = '300000000000000103';
    for (const id of [longGrant, shortGrant, cancelled]) discord.addMember(id);
    const grantEnd = now() + 10 * DAY_MS;
    grant(longGrant, 'elite', grantEnd);
    grant(shortGrant, 'elite', now() + 2 * DAY_MS);
    const s = paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly, customId: cancelled, status: 'ACTIVE', lastPaymentTime: new Date(now()).toISOString() });
    await deliverProcessed(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
    paypal.setStatus(s.id, 'CANCELLED');
    await deliverProcessed(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', s.id));
    const paidThrough = getMember(service().store.db, cancelled)?.entitledUntil ?? 0;
    expect(paidThrough).toBeGreaterThan(now() + 20 * DAY_MS);
    await expect.poll(() => discord.member(cancelled)?.includes(ROLE_IDS.legendary)).toBe(true);

    await advance(grantEnd - 3 * DAY_MS - HOUR - now());
    expect(warnings(longGrant)).toHaveLength(0);
    await advance(2 * HOUR);
    await expect.poll(() => warnings(longGrant).length).toBe(1);
    expect(warnings(longGrant)[0]?.description).toContain(`<t:${Math.floor(grantEnd / 1000)}:D>`);
    expect(warnings(longGrant)[0]?.description).toMatch(/Elite access .* will not renew/);

    // Restart: the pending scan survives in the queue; nothing is warned twice.
    await service().close();
    running = null;
    await start();
    await advance(3 * HOUR);
    expect(warnings(longGrant)).toHaveLength(1);

    await advance(paidThrough - 3 * DAY_MS + HOUR - now());
    await expect.poll(() => warnings(cancelled).length).toBe(1);
    expect(warnings(cancelled)[0]?.description).toMatch(/Legendary access/);
    await advance(3 * DAY_MS);
    expect(warnings(longGrant)).toHaveLength(1);
    expect(warnings(cancelled)).toHaveLength(1);
    expect(warnings(shortGrant)).toHaveLength(0);
    // Each is on record, once (not posted: /admin lookup shows it).
    const recorded = service().store.sqlite.prepare(`SELECT member_id AS m FROM audit_entries WHERE kind = 'member.expiry_warning' ORDER BY member_id`).all();
    expect(recorded).toEqual([{ m: longGrant }, { m: cancelled }]);
  });
});

describe('daily backup and retention', { timeout: 60_000 }, () => {
  it('backs up at 03:00 UTC into BACKUP_DIR, and prunes webhook bodies after 90 days and done jobs after 7', async () => {
    discord.addMember('300000000000000201');
    const s = paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: '300000000000000201', status: 'ACTIVE', lastPaymentTime: new Date(now()).toISOString() });
    const event = paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
    await deliverProcessed(event);
    const backups = join(dir, 'backups');
    const before = readdirSync(backups).length;
    const next3am = Math.floor(now() / DAY_MS) * DAY_MS + DAY_MS + 3 * HOUR;
    await advance(next3am + 60_000 - now());
    await expect.poll(() => readdirSync(backups).length).toBe(before + 1);
    // Named by the service clock's time of the run: just after 03:00 that day.
    expect(readdirSync(backups).filter((f) => f.startsWith(`concierge-${new Date(next3am).toISOString().slice(0, 10)}T03-01-`))).toHaveLength(1);

    const bodyOf = () => service().store.db.select({ b: webhookEvents.rawBody }).from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.b;
    expect(bodyOf()).not.toBe('');
    await advance(91 * DAY_MS);
    await expect.poll(bodyOf).toBe('');
    const oldDone = service().store.sqlite.prepare(`SELECT count(*) AS n FROM jobs WHERE status = 'done' AND updated_at < ?`).get(now() - 8 * DAY_MS) as { n: number };
    expect(oldDone.n).toBe(0);
    const dead = service().store.sqlite.prepare(`SELECT kind, last_error AS e FROM jobs WHERE status = 'dead'`).all();
    expect(dead).toEqual([]);
  });
});
