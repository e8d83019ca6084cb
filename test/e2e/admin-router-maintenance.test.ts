import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries } from '../../src/store/schema.ts';
import type { Harness } from '../helpers/harness.ts';
import { subscribeAndPay } from '../helpers/member-actions.ts';
import { createMemberMaker, startStaffHarness } from '../helpers/staff-actions.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * `/admin resync`, `export` and `reconcile` reached the way staff reach them:
 * the registered /admin command, the interaction router's staff check and
 * its deferred reply, then the maintenance handler editing that reply
 * (admin-maintenance.test.ts drives the handler directly).
 */

let h: Harness;
const STAFF = '340000000000009101';
beforeAll(async () => {
  h = await startStaffHarness(STAFF);
});
afterAll(() => h.close());

const guildMember = createMemberMaker(() => h, 341000000000000000n);
const contentOf = (body: { content?: string | null } | undefined) => body?.content ?? '';

describe('/admin maintenance subcommands through the router', () => {
  it('resync of one member: a deferred reply, edited once with the result; the role put back', async () => {
    const memberId = guildMember();
    await subscribeAndPay(h, { memberId, planId: PLAN_IDS.legendaryMonthly, roleId: ROLE_IDS.legendary, paidAt: h.now() - 60_000 });
    await h.waitFor(() => h.discord.member(memberId)?.includes(ROLE_IDS.legendary));
    h.discord.setMemberRoles(memberId, []);
    const handle = h.discord.interact({ type: 'command', name: 'admin', subcommand: 'resync', userId: STAFF, options: { member: memberId } });
    expect(await handle.response()).toMatchObject({ type: 5, accepted: true, ephemeral: true });
    const edits = await handle.waitForEdits(1, 15_000);
    expect(edits.map((e) => contentOf(e.body)).join('\n')).toMatch(/Roles of <@\d+> are in line|queued/);
    await h.waitFor(() => h.discord.member(memberId)?.includes(ROLE_IDS.legendary), 10_000);
    // One audit entry naming the staff member and the target.
    const audits = h.service.store.db.select().from(auditEntries).all().filter((a) => a.kind.startsWith('staff.') && a.memberId === memberId);
    expect(audits.length).toBeGreaterThanOrEqual(1);
    expect(audits.some((a) => a.message.includes(STAFF))).toBe(true);
  });

  it('a member who is not staff gets the refusal and no resync runs', async () => {
    const outsider = guildMember();
    const handle = h.discord.interact({ type: 'command', name: 'admin', subcommand: 'resync', userId: outsider, options: {} });
    await handle.response();
    const [edit] = await handle.waitForEdits(1, 8_000);
    expect(contentOf(edit?.body)).toMatch(/staff/i);
    expect(h.service.store.db.select().from(auditEntries).all().filter((a) => a.kind === 'staff.resync' && a.message.includes(outsider))).toHaveLength(0);
  });
});
