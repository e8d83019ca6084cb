import { eq } from 'drizzle-orm';
import { ButtonStyle } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRevokedSubscription } from '../../src/app/revoke-access.ts';
import { createLogger } from '../../src/log.ts';
import { createPaypalClient } from '../../src/paypal/client.ts';
import { subscriptions } from '../../src/store/schema.ts';
import type { Harness } from '../helpers/harness.ts';
import { deliverProcessed, subscribeAndPay } from '../helpers/member-actions.ts';
import { buttonsOf, clickStaffButton, createMemberMaker, listGrants, runStaffCommand, staffAuditsOf, startStaffHarness } from '../helpers/staff-actions.ts';
import { PLAN_IDS, ROLE_IDS, STAFF_ROLE_ID } from '../helpers/tiers.ts';

/**
 * /admin revoke end to end: grants end at once; a PayPal subscription
 * giving access gets buttons, "Cancel at PayPal" (the reason goes to PayPal,
 * access follows the cancel policy) and "Cancel and end access now"; the
 * buttons work only for the staff member who ran the revoke, while still staff.
 */

const DAY = 86_400_000;
let h: Harness;
const STAFF = '350000000000009001';

beforeAll(async () => {
  h = await startStaffHarness(STAFF);
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const holds = (memberId: string) => h.discord.member(memberId) ?? [];
const grantsOf = (memberId: string) => listGrants(h, memberId);
const sub = (id: string) => db().select().from(subscriptions).where(eq(subscriptions.id, id)).get();
const staffAudits = (memberId: string) => staffAuditsOf(h, memberId);
const cancelCalls = (subId: string) => h.paypal.requests.filter((r) => r.method === 'POST' && r.path === `/v1/billing/subscriptions/${subId}/cancel`);

const guildMember = createMemberMaker(() => h, 350000000000000000n);

const admin = (sub: string, userId: string, options: Record<string, string> = {}) => runStaffCommand(h, 'admin', sub, userId, options);

/** A Legendary subscriber (paid 5 days ago, so paid through ~25 more days) who also holds a lifetime Warlord grant. */
async function subscriberWithGrant() {
  const memberId = guildMember();
  const subId = await subscribeAndPay(h, { memberId, planId: PLAN_IDS.legendaryMonthly, roleId: ROLE_IDS.legendary, paidAt: h.now() - 5 * DAY });
  await admin('grant', STAFF, { member: memberId, tier: 'warlord' });
  await h.waitFor(() => holds(memberId).includes(ROLE_IDS.warlord));
  await h.settle();
  return { memberId, subId };
}

/**
 * Runs the revoke and lets its role sync finish before the test clicks: two
 * role syncs of one member may run at once in the queue and then undo each
 * other's work (a known race of the queue, not of staff commands); staff take
 * seconds between the command and a click anyway.
 */
async function revoke(memberId: string, reason: string) {
  const reply = await admin('revoke', STAFF, { member: memberId, reason });
  await h.settle();
  const [cancel, end] = buttonsOf(reply);
  return { reply, cancel: cancel?.custom_id ?? '', end: end?.custom_id ?? '', buttons: buttonsOf(reply) };
}

describe('/admin revoke', () => {
  it('a grant-only member: the grant ends at once, the role goes, one audit entry with the reason', async () => {
    const memberId = guildMember();
    await admin('grant', STAFF, { member: memberId, tier: 'titan', duration: '1mo' });
    await h.waitFor(() => holds(memberId).includes(ROLE_IDS.titan));
    const { reply, buttons } = await revoke(memberId, 'left the team');
    expect(buttons).toEqual([]);
    expect(reply.embeds?.[0]?.description).toBe(`Ended 1 staff grant now.\n<@${memberId}> now holds no tier; their tier role is removed.`);
    expect(grantsOf(memberId)[0]?.revokedAt).not.toBeNull();
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.titan));
    const revoked = staffAudits(memberId).filter((a) => a.kind === 'staff.revoke');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.message).toMatch(new RegExp(`^<@${STAFF}> revoked <@${memberId}>'s staff access: ended grant #\\d+ \\(reason: left the team\\)$`));
    await h.discord.waitForMessage(h.discord.auditChannelId, (m) => m.embeds.some((e) => e.title === 'Staff revoked access' && (e.description ?? '').includes('left the team')));
  });

  it('nothing to revoke: says so and records nothing', async () => {
    const memberId = guildMember();
    expect((await admin('revoke', STAFF, { member: memberId })).content).toBe(`<@${memberId}> has no running staff grant and no PayPal subscription giving access: nothing to revoke.`);
    expect(staffAudits(memberId)).toEqual([]);
  });

  it('Cancel at PayPal: the grant ends now, PayPal gets the cancel with the reason, access runs to paid-through (period_end)', async () => {
    const { memberId, subId } = await subscriberWithGrant();
    const { reply, buttons, cancel } = await revoke(memberId, 'chargeback abuse');
    expect(buttons.map((b) => [b.label, b.style])).toEqual([
      ['Cancel at PayPal', ButtonStyle.Danger],
      ['Cancel and end access now', ButtonStyle.Danger],
    ]);
    expect(cancel).toMatch(new RegExp(`^admin-revoke:${STAFF}:\\d+:cancel:${memberId}:\\d+$`));
    expect(reply.embeds?.[0]?.description).toContain(`<@${memberId}> now holds **Legendary** from their PayPal subscription \`${subId}\``);
    // The grant is gone at once; the paid tier stays.
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.warlord) && holds(memberId).includes(ROLE_IDS.legendary));
    expect(cancelCalls(subId)).toHaveLength(0);

    const after = await clickStaffButton(h, cancel, STAFF);
    expect(after?.content).toMatch(new RegExp(`^Cancelled \`${subId}\` at PayPal\\.\\n<@${memberId}> now holds \\*\\*Legendary\\*\\* from their PayPal subscription \`${subId}\` until <t:\\d+:f>\\.$`));
    expect(after?.components).toEqual([]);
    expect(cancelCalls(subId).map((r) => r.body)).toEqual([{ reason: 'Revoked by staff: chargeback abuse' }]);
    expect(h.paypal.get(subId)?.status).toBe('CANCELLED');
    expect(sub(subId)).toMatchObject({ state: 'cancelled', revokedAt: null });
    expect(sub(subId)?.accessUntil).toBeGreaterThan(h.now() + 20 * DAY);
    await h.settle();
    expect(holds(memberId)).toContain(ROLE_IDS.legendary);

    expect(staffAudits(memberId).map((a) => a.kind)).toEqual(['staff.grant', 'staff.revoke', 'staff.cancel']);
    expect(staffAudits(memberId)[2]?.message).toBe(`<@${STAFF}> cancelled <@${memberId}>'s PayPal subscription ${subId} (Legendary); access follows the cancel policy (reason: chargeback abuse)`);
  });

  it('Cancel and end access now: cancelled at PayPal and the tier removed at once; a later PayPal event does not bring it back', async () => {
    const { memberId, subId } = await subscriberWithGrant();
    const { end } = await revoke(memberId, 'fraud');
    const after = await clickStaffButton(h, end, STAFF);
    expect(after?.content).toBe(`Cancelled \`${subId}\` at PayPal. Access from it ended now.\n<@${memberId}> now holds no tier; their tier role is removed.`);
    expect(cancelCalls(subId).map((r) => r.body)).toEqual([{ reason: 'Revoked by staff: fraud' }]);
    expect(sub(subId)).toMatchObject({ state: 'revoked', revokedReason: 'access ended by staff: fraud' });
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.legendary) && !holds(memberId).includes(ROLE_IDS.warlord));
    expect(staffAudits(memberId).at(-1)?.kind).toBe('staff.end_access');

    await deliverProcessed(h, h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    await h.settle();
    expect(sub(subId)?.state).toBe('revoked');
    expect(holds(memberId)).not.toContain(ROLE_IDS.legendary);
  });

  // Only the staff member who ran the revoke sees the ephemeral reply, and the router refuses anyone else's click (interaction-router tests).
  it('a click checks staff again: a staff member who lost the role since changes nothing', async () => {
    const { memberId, subId } = await subscriberWithGrant();
    const { cancel } = await revoke(memberId, 'test');
    h.discord.setMemberRoles(STAFF, []);
    try {
      const byFormerStaff = await clickStaffButton(h, cancel, STAFF);
      expect(byFormerStaff?.content).toMatch(/staff only/);
    } finally {
      h.discord.setMemberRoles(STAFF, [STAFF_ROLE_ID]);
    }
    expect(cancelCalls(subId)).toHaveLength(0);
    expect(sub(subId)?.state).toBe('active');
    expect(staffAudits(memberId).map((a) => a.kind)).toEqual(['staff.grant', 'staff.revoke']);
  });

  it('an already-cancelled subscription with access left offers only "End access now"', async () => {
    const memberId = guildMember();
    const subId = await subscribeAndPay(h, { memberId, planId: PLAN_IDS.eliteMonthly, roleId: ROLE_IDS.elite, paidAt: h.now() - DAY });
    h.paypal.setStatus(subId, 'CANCELLED');
    await deliverProcessed(h, h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    const { buttons, reply } = await revoke(memberId, 'abuse');
    expect(buttons.map((b) => b.label)).toEqual(['End access now']);
    expect(reply.embeds?.[0]?.description).toContain('They had no running staff grant.');
    const after = await clickStaffButton(h, buttons[0]?.custom_id ?? '', STAFF);
    expect(after?.content).toMatch(/was already cancelled at PayPal\. Access from it ended now\./);
    expect(cancelCalls(subId)).toHaveLength(0);
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.elite));
  });

  it('a decision names the member its revoke was about: another member or another audit entry changes nothing', async () => {
    const { memberId, subId } = await subscriberWithGrant();
    const { cancel } = await revoke(memberId, 'test');
    const auditId = Number(cancel.split(':').at(-1));
    const grantAuditId = staffAudits(memberId).find((a) => a.kind === 'staff.grant')?.id ?? 0;
    // The use case behind the buttons, called the way a forged custom id would reach it.
    const { paypal: pp } = h.config;
    const paypal = createPaypalClient({ clientId: pp.clientId, clientSecret: pp.clientSecret, apiUrl: pp.apiUrl, mode: pp.mode, timeoutMs: pp.timeoutMs, log: createLogger('silent') });
    const deps = { store: h.service.store, effects: h.service.effects, paypal, tiers: h.service.tiers, clock: h.now, log: createLogger('silent') };
    try {
      for (const forged of [
        { memberId: guildMember(), auditId },
        { memberId, auditId: grantAuditId },
        { memberId, auditId: auditId + 10_000 },
      ]) {
        expect(await cancelRevokedSubscription(deps, { actorId: STAFF, endNow: true, ...forged })).toEqual({ kind: 'stale' });
      }
    } finally {
      paypal.close();
    }
    expect(cancelCalls(subId)).toHaveLength(0);
    expect(sub(subId)).toMatchObject({ state: 'active', revokedAt: null });
  });
});
