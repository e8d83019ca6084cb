import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, webhookEvents } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * A member who pays during a bulk resync gets their role within seconds: the
 * resync's jobs are bulk work, claimed only when no live job is due, so the
 * live role sync waits for the few resync jobs already running, not for the
 * whole resync paced by Discord's member-role bucket.
 */

const ROLE_LIMIT = 10;
const ROLE_WINDOW_MS = 1_000;
const STALE = 80;

let h: Harness;
const stale = Array.from({ length: STALE }, (_, i) => String(820000000000000000n + BigInt(i)));
const payer = '829999999999999999';

beforeAll(async () => {
  // Members holding a tier role nobody pays for: the resync must remove each one, 10 a second.
  const members = [...stale.map((id) => ({ id, roles: [ROLE_IDS.warlord] })), { id: payer }];
  h = await startHarness({ discord: { roleLimit: ROLE_LIMIT, roleWindowMs: ROLE_WINDOW_MS, members } });
});
afterAll(async () => {
  await h.close();
});

const pendingResync = () =>
  h.service.store.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.kind, 'role-sync'), inArray(jobs.status, ['queued', 'running']), eq(jobs.priority, -1)))
    .all().length;

describe('resync priority', () => {
  it('a live activation during an 80-member resync gets its role PUT while most of the resync is still queued', async () => {
    await h.service.resyncAll();
    await h.discord.waitForCalls('DELETE', /\/roles\//, 5, 5_000);

    const sub = h.paypal.createSubscription({ planId: PLAN_IDS.titanMonthly, customId: payer });
    h.paypal.approve(sub.id);
    const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id);
    expect((await h.deliver(event)).status).toBe(200);
    await h.discord.waitForCalls('PUT', new RegExp(`/members/${payer}/roles/${ROLE_IDS.titan}$`), 1, 10_000);

    expect(h.service.store.db.select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.outcome).toBe('processed');
    // The resync was still under way: the live sync cut in ahead of it.
    expect(pendingResync()).toBeGreaterThan(STALE / 2);

    await h.waitFor(() => pendingResync() === 0, 20_000);
    for (const id of stale) expect(h.discord.member(id)).toEqual([]);
    expect(h.discord.member(payer)).toEqual([ROLE_IDS.titan]);
  }, 30_000);
});
