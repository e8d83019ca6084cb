import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleSyncJob } from '../../src/jobs/definitions.ts';
import { enqueue } from '../../src/jobs/queue.ts';
import { createPaypalClient } from '../../src/paypal/client.ts';
import { auditEntries, jobs, members, webhookEvents } from '../../src/store/schema.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import { UNMANAGED_ROLE, startHarness, type Harness } from '../helpers/harness.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * Role sync end to end: a signed webhook from the PayPal stand-in, the real
 * PayPal SDK re-reading the subscription, the job queue, and the REAL
 * discord.js client changing roles on the Discord stand-in. Assertions are
 * on what Discord saw (its request log and the member's roles).
 */

let h: Harness;
let unmanaged: string;
let nextMember = 600000000000000000n;
beforeAll(async () => {
  h = await startHarness();
  unmanaged = h.discord.roleId(UNMANAGED_ROLE);
});
afterAll(async () => {
  // Across every test: no request ever named the unmanaged role, and no member was PATCHed wholesale.
  expect(h.discord.requests.filter((r) => r.path.includes(unmanaged) || (r.method === 'PATCH' && /\/members\//.test(r.path)))).toEqual([]);
  await h.close();
});

const db = () => h.service.store.db;
const rolePath = (memberId: string, roleId: string) => new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${roleId}$`);
const roleCalls = (memberId: string) => h.discord.requests.filter((r) => new RegExp(`/members/${memberId}/roles/`).test(r.path));
const roleSyncJobs = (memberId: string) => db().select().from(jobs).where(and(eq(jobs.kind, 'role-sync'), eq(jobs.dedupeKey, memberId))).all();

/** A member of the guild who also holds a role no tier manages. */
function guildMember(): string {
  const id = String(++nextMember);
  h.discord.addMember(id, { roles: [UNMANAGED_ROLE], username: `member-${id.slice(-4)}` });
  return id;
}

async function send(event: WebhookEvent<unknown>) {
  const res = await h.deliver(event);
  expect(res.status, res.body).toBe(200);
  await h.waitFor(() => db().select().from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.processedAt != null);
}

/** Subscribes and activates; returns once Discord has answered the role PUT. */
async function activate(memberId: string, planId: string = PLAN_IDS.eliteMonthly, roleId: string = ROLE_IDS.elite) {
  const s = h.paypal.createSubscription({ planId, customId: memberId });
  h.paypal.approve(s.id);
  const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
  await send(event);
  await h.discord.waitForCalls('PUT', rolePath(memberId, roleId));
  return { subId: s.id, event };
}

const msBetween = (a: { at: Date } | undefined, b: { at: Date } | undefined) => (b?.at.getTime() ?? 0) - (a?.at.getTime() ?? 0);
const holds = (memberId: string) => h.discord.member(memberId) ?? [];

describe('role sync', () => {
  it('a signed ACTIVATED webhook → the tier role is PUT exactly once; a replay and a re-run make no call', async () => {
    const memberId = guildMember();
    const { event } = await activate(memberId);
    await h.settle();
    expect(h.discord.callsTo('PUT', rolePath(memberId, ROLE_IDS.elite))).toBe(1);
    expect(holds(memberId).sort()).toEqual([ROLE_IDS.elite, unmanaged].sort());
    const put = h.discord.requests.find((r) => rolePath(memberId, ROLE_IDS.elite).test(r.path));
    expect(put?.reason).toMatch(/Concierge/);

    // The same event again (PayPal re-sends) and a replayed copy: acknowledged, nothing changes on Discord.
    expect((await h.deliver(event)).status).toBe(200);
    expect((await h.deliver(event, { transmissionId: undefined })).status).toBe(200);
    // And the reconciler run again by hand: it reads the member and has nothing to do.
    // (No runner.wake(): the store wakes the runner when the transaction commits.)
    h.service.store.transaction((tx) => enqueue(tx, roleSyncJob, { memberId }, h.now(), { dedupeKey: memberId }));
    await h.settle();
    await new Promise((r) => setTimeout(r, 100));
    await h.settle();
    expect(roleCalls(memberId).filter((r) => r.method !== 'GET')).toHaveLength(1);
  });

  it('a tier change (a revised plan, then a payment at its price) removes the old role and adds the new', async () => {
    const memberId = guildMember();
    const { subId } = await activate(memberId);
    const client = createPaypalClient({ clientId: 'test-client-id', clientSecret: 'test-client-secret', apiUrl: h.paypal.url, mode: 'sandbox', timeoutMs: 2000 });
    await client.reviseSubscription(subId, PLAN_IDS.titanMonthly, { returnUrl: 'https://members.example.test/paypal/return', cancelUrl: 'https://members.example.test/paypal/cancel' });
    h.paypal.approveRevision(subId);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.UPDATED', subId));
    h.advance(60_000); // PayPal times have whole seconds: the renewal must not share the first payment's
    const sale = h.paypal.recordPayment(subId);
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
    await h.discord.waitForCalls('DELETE', rolePath(memberId, ROLE_IDS.elite));
    expect(h.discord.callsTo('PUT', rolePath(memberId, ROLE_IDS.titan))).toBe(1);
    expect(holds(memberId).sort()).toEqual([ROLE_IDS.titan, unmanaged].sort());
  });

  it('a refund removes the role at once', async () => {
    const memberId = guildMember();
    const { subId } = await activate(memberId, PLAN_IDS.legendaryMonthly, ROLE_IDS.legendary);
    const sale = h.paypal.recordPayment(subId);
    await send(h.paypal.saleEvent('PAYMENT.SALE.COMPLETED', sale.id));
    h.paypal.refundSale(sale.id);
    await send(h.paypal.saleEvent('PAYMENT.SALE.REFUNDED', sale.id));
    await h.discord.waitForCalls('DELETE', rolePath(memberId, ROLE_IDS.legendary));
    expect(holds(memberId)).toEqual([unmanaged]);
  });

  it('a member not in the guild gets nothing now and the role when they join', async () => {
    const memberId = String(++nextMember);
    const s = h.paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: memberId });
    h.paypal.approve(s.id);
    await send(h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id));
    await h.waitFor(() => roleSyncJobs(memberId).every((j) => j.status === 'done') && roleSyncJobs(memberId).length > 0);
    expect(roleCalls(memberId).filter((r) => r.method !== 'GET')).toHaveLength(0);
    h.discord.addMember(memberId, { roles: [UNMANAGED_ROLE] });
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.elite));
    expect(holds(memberId).sort()).toEqual([ROLE_IDS.elite, unmanaged].sort());
  });

  it('a member who leaves and rejoins gets the role again', async () => {
    const memberId = guildMember();
    await activate(memberId);
    h.discord.removeMember(memberId);
    h.discord.addMember(memberId, { roles: [UNMANAGED_ROLE] });
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.elite), 2);
    expect(holds(memberId).sort()).toEqual([ROLE_IDS.elite, unmanaged].sort());
  });
});

describe('Discord faults', () => {
  it('Discord answering 500 to every try of the first attempt, then OK → the job retries with backoff and the role is applied', async () => {
    const memberId = guildMember();
    // discord.js itself retries a 5xx 3 times at once (4 requests): all four fail, so the job must retry.
    const fault = h.discord.fault({ method: 'PUT', path: rolePath(memberId, ROLE_IDS.elite), status: 500, times: 4 });
    await activate(memberId);
    await h.waitFor(() => holds(memberId).includes(ROLE_IDS.elite), 8000);
    expect(fault.hits).toBe(4);
    const puts = h.discord.requests.filter((r) => r.method === 'PUT' && rolePath(memberId, ROLE_IDS.elite).test(r.path));
    expect(puts).toHaveLength(5);
    // The job's retry came after a real backoff (≥ 0.5 s), not at once like discord.js's own retries.
    expect(msBetween(puts[3], puts[4])).toBeGreaterThanOrEqual(450);
    await h.waitFor(() => roleSyncJobs(memberId).some((j) => j.status === 'done'));
    expect(roleSyncJobs(memberId).find((j) => j.status === 'done')?.attempts).toBe(2);
  });

  it('a 429 with Retry-After is honoured', async () => {
    const memberId = guildMember();
    h.discord.fault({ method: 'PUT', path: rolePath(memberId, ROLE_IDS.elite), status: 429, retryAfter: 1, times: 1 });
    await activate(memberId);
    await h.waitFor(() => holds(memberId).includes(ROLE_IDS.elite), 5000);
    const puts = h.discord.requests.filter((r) => r.method === 'PUT' && rolePath(memberId, ROLE_IDS.elite).test(r.path));
    expect(puts.map((r) => r.status)).toEqual([429, 204]);
    expect(msBetween(puts[0], puts[1])).toBeGreaterThanOrEqual(950);
  });

  it('a tier role above the bot → 403 50013 → the job is dead-lettered with the fix in the audit entry; nothing is removed', async () => {
    const memberId = guildMember();
    const botPosition = h.discord.roles().find((r) => r.id === h.discord.botRoleId)?.position ?? 0;
    h.discord.updateRole(ROLE_IDS.warlord, { position: botPosition + 10 });
    try {
      await activate(memberId, PLAN_IDS.warlordMonthly, ROLE_IDS.warlord);
      await h.waitFor(() => roleSyncJobs(memberId).some((j) => j.status === 'dead'));
      const dead = db().select().from(auditEntries).where(and(eq(auditEntries.kind, 'job.dead'))).all();
      const entry = dead.find((a) => a.message.includes('drag role Concierge above Warlord in Server Settings → Roles'));
      expect(entry, JSON.stringify(dead.map((a) => a.message))).toBeDefined();
      expect(holds(memberId)).toEqual([unmanaged]);
      expect(h.discord.requests.filter((r) => r.method === 'DELETE' && r.path.includes(memberId))).toHaveLength(0);
      // /readyz names the failing start-up check while the hierarchy is wrong.
      const ready = await fetch(`${h.service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { failing: string[] }).failing).toContain('discord_roles');
    } finally {
      h.discord.updateRole(ROLE_IDS.warlord, { position: 4 });
    }
    // Moving the role back re-runs the check (GUILD_ROLE_UPDATE): readiness recovers without a restart.
    for (let i = 0; (await fetch(`${h.service.url}/readyz`)).status !== 200; i++) {
      if (i > 100) throw new Error('/readyz did not recover after the hierarchy was fixed');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

describe('manual role edits', () => {
  it('a moderator removing a paid role is reverted (policy revert) and audited naming who', async () => {
    const memberId = guildMember();
    await activate(memberId);
    await h.settle();
    h.discord.setMemberRoles(memberId, [UNMANAGED_ROLE], { reason: 'oops' });
    await h.discord.waitForCalls('PUT', rolePath(memberId, ROLE_IDS.elite), 2);
    expect(holds(memberId).sort()).toEqual([ROLE_IDS.elite, unmanaged].sort());
    const audit = db().select().from(auditEntries).where(and(eq(auditEntries.memberId, memberId), eq(auditEntries.kind, 'roles.manual_edit'))).all();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.message).toContain(`<@${h.discord.ownerId}>`);
    expect(audit[0]?.message).toContain('removed Elite');
  });

  it('a moderator giving a managed role to a member not entitled to it is reverted', async () => {
    const memberId = guildMember();
    h.discord.setMemberRoles(memberId, [UNMANAGED_ROLE, ROLE_IDS.titan]);
    await h.discord.waitForCalls('DELETE', rolePath(memberId, ROLE_IDS.titan));
    expect(holds(memberId)).toEqual([unmanaged]);
  });

  it("Concierge's own role changes are not taken for manual edits", async () => {
    const memberId = guildMember();
    await activate(memberId);
    await new Promise((r) => setTimeout(r, 200));
    await h.settle();
    const audit = db().select().from(auditEntries).where(and(eq(auditEntries.memberId, memberId), eq(auditEntries.kind, 'roles.manual_edit'))).all();
    expect(audit).toHaveLength(0);
    expect(db().select().from(members).where(eq(members.discordUserId, memberId)).get()?.entitledTier).toBe('elite');
  });
});
