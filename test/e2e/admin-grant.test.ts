import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMemberOverview } from '../../src/app/member-overview.ts';
import { auditEntries, jobs, subscriptions } from '../../src/store/schema.ts';
import type { Harness } from '../helpers/harness.ts';
import { deliverProcessed, subscribeAndPay } from '../helpers/member-actions.ts';
import { createMemberMaker, listGrants, runStaffCommand, staffAuditsOf, startStaffHarness } from '../helpers/staff-actions.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * /admin grant, extend and lookup end to end, and the staff check, through
 * the REAL discord.js client against the Discord stand-in: what staff read,
 * the roles members hold, the rows and the audit channel. Time moves with
 * the harness clock (h.advance), which the service and PayPal share.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let h: Harness;
const STAFF = '340000000000009001';

beforeAll(async () => {
  h = await startStaffHarness(STAFF);
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const holds = (memberId: string) => h.discord.member(memberId) ?? [];
const rolePuts = (memberId: string) => h.discord.callsTo('PUT', new RegExp(`^/guilds/\\d+/members/${memberId}/roles/`));
const roleDeletes = (memberId: string) => h.discord.callsTo('DELETE', new RegExp(`^/guilds/\\d+/members/${memberId}/roles/`));
const grantsOf = (memberId: string) => listGrants(h, memberId);
const staffAudits = (memberId: string) => staffAuditsOf(h, memberId);

const guildMember = createMemberMaker(() => h, 340000000000000000n);

const admin = (sub: string, userId: string, options: Record<string, string> = {}) => runStaffCommand(h, 'admin', sub, userId, options);

describe('staff check', () => {
  it('/admin and /publisher are registered with the member commands, hidden by default_member_permissions "0"', () => {
    const byName = new Map(h.discord.commands().map((c) => [c.name, c]));
    expect([...byName.keys()].sort()).toEqual(['admin', 'cancel', 'publisher', 'scripts', 'status', 'subscribe']);
    expect(byName.get('admin')?.default_member_permissions).toBe('0');
    expect(byName.get('publisher')?.default_member_permissions).toBe('0');
    expect(byName.get('status')?.default_member_permissions ?? null).toBeNull();
    const subs = (name: string) => Object.fromEntries((byName.get(name)?.options ?? []).map((o) => [o.name, 'options' in o ? (o.options ?? []).map((x) => `${x.name}${'required' in x && x.required ? '' : '?'}`) : []]));
    expect(subs('admin')).toEqual({
      lookup: ['member'],
      grant: ['member', 'tier', 'duration?'],
      revoke: ['member', 'reason?'],
      extend: ['member', 'duration'],
      resync: ['member?'],
      export: [],
      reconcile: [],
    });
    expect(subs('publisher')).toEqual({ info: [], 'set-bio': ['text'], 'set-url': ['url'], 'set-icon': ['url?', 'image?'] });
  });

  it('a member without a staff role changes nothing and gets a clear refusal, whatever the subcommand', async () => {
    const outsider = guildMember();
    const target = guildMember();
    const auditsBefore = db().select().from(auditEntries).all().length;
    for (const [sub, options] of [
      ['grant', { member: target, tier: 'warlord', duration: 'lifetime' }],
      ['lookup', { member: target }],
      ['revoke', { member: target, reason: 'x' }],
      ['extend', { member: target, duration: '7d' }],
      ['resync', {}],
    ] as const) {
      const reply = await admin(sub, outsider, options);
      expect(reply.content, sub).toBe('This command is for staff only (a staff role from the tiers file, or Administrator). Nothing was changed.');
    }
    expect((await runStaffCommand(h, 'publisher', 'set-bio', outsider, { text: 'hijacked' })).content).toMatch(/staff only/);
    await h.settle();
    expect(grantsOf(target)).toEqual([]);
    expect(rolePuts(target)).toBe(0);
    expect(db().select().from(auditEntries).all().length).toBe(auditsBefore);
  });

  it('Administrator counts as staff without a staff role (the guild owner)', async () => {
    const target = guildMember();
    const reply = await admin('grant', h.discord.ownerId, { member: target, tier: 'elite', duration: '1d' });
    expect(reply.content).toMatch(/^Granted \*\*Elite\*\*/);
    await h.waitFor(() => holds(target).includes(ROLE_IDS.elite));
  });
});

describe('/admin grant', () => {
  it('a 7-day grant: role at once (one PUT), the lapse check at the exact end, and the role goes after 7 days', async () => {
    const memberId = guildMember();
    const before = h.now();
    const reply = await admin('grant', STAFF, { member: memberId, tier: 'legendary', duration: '7d' });
    const [grant] = grantsOf(memberId);
    expect(grant).toMatchObject({ tierKey: 'legendary', grantedBy: STAFF, revokedAt: null });
    const expiresAt = grant?.expiresAt ?? 0;
    expect(expiresAt - (grant?.startsAt ?? 0)).toBe(7 * DAY);
    expect(grant?.startsAt).toBeGreaterThanOrEqual(before);
    expect(reply.content).toBe(`Granted **Legendary** to <@${memberId}> for 7 days, until <t:${Math.floor(expiresAt / 1000)}:f> (grant #${grant?.id}).\nTheir tier role is being updated now.`);

    await h.waitFor(() => holds(memberId).includes(ROLE_IDS.legendary));
    await h.settle();
    expect(rolePuts(memberId)).toBe(1);
    const lapse = db().select().from(jobs).where(and(eq(jobs.kind, 'lapse-check'), eq(jobs.dedupeKey, memberId), eq(jobs.status, 'queued'))).get();
    expect(lapse?.runAt).toBe(expiresAt);

    // One minute before the end nothing changes; past it the role goes.
    h.advance(expiresAt - h.now() - 60_000);
    await h.settle();
    expect(holds(memberId)).toContain(ROLE_IDS.legendary);
    h.advance(2 * 60_000);
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.legendary));
    expect(roleDeletes(memberId)).toBe(1);
  });

  it('without a duration the grant is lifetime, and the reply says it was the default', async () => {
    const memberId = guildMember();
    const reply = await admin('grant', STAFF, { member: memberId, tier: 'elite' });
    expect(reply.content).toMatch(/with no end date \(lifetime, the default when no duration is given\)/);
    expect(grantsOf(memberId)[0]?.expiresAt).toBeNull();
    expect(db().select().from(jobs).where(and(eq(jobs.kind, 'lapse-check'), eq(jobs.dedupeKey, memberId))).all()).toEqual([]);
  });

  it('a bad duration is refused with what to type, and nothing is granted', async () => {
    const memberId = guildMember();
    const reply = await admin('grant', STAFF, { member: memberId, tier: 'elite', duration: '7 weeks' });
    expect(reply.content).toBe('`7 weeks` is not a duration. Use a whole number and a unit: `12h` (hours), `7d` (days), `2w` (weeks), `1mo` (months), `1y` (years), or `lifetime`.');
    expect(grantsOf(memberId)).toEqual([]);
    expect(staffAudits(memberId)).toEqual([]);
  });

  it('a grant ending never takes away the tier the member pays for; a higher grant counts while it runs', async () => {
    const memberId = guildMember();
    await subscribeAndPay(h, { memberId, planId: PLAN_IDS.titanMonthly, roleId: ROLE_IDS.titan, paidAt: h.now() - 2 * DAY });

    const lower = await admin('grant', STAFF, { member: memberId, tier: 'elite', duration: '12h' });
    expect(lower.content).toMatch(/now holds \*\*Titan\*\* from their PayPal subscription `I-[^`]+`\. This grant takes over if that ends first\.$/);
    await admin('grant', STAFF, { member: memberId, tier: 'warlord', duration: '1d' });
    await h.waitFor(() => holds(memberId).includes(ROLE_IDS.warlord) && !holds(memberId).includes(ROLE_IDS.titan));

    h.advance(13 * HOUR); // the Elite grant ends: nothing changes
    await h.settle();
    expect(holds(memberId)).toContain(ROLE_IDS.warlord);
    h.advance(12 * HOUR); // the Warlord grant ends: back to the paid Titan
    await h.waitFor(() => holds(memberId).includes(ROLE_IDS.titan) && !holds(memberId).includes(ROLE_IDS.warlord));
    await h.settle();
    expect(holds(memberId)).not.toContain(ROLE_IDS.elite);
  });

  it('writes one audit entry naming actor, target and what was granted, and posts it to the audit channel', async () => {
    const memberId = guildMember();
    await admin('grant', STAFF, { member: memberId, tier: 'titan', duration: '1mo' });
    const [entry, ...more] = staffAudits(memberId);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ kind: 'staff.grant', severity: 'success', memberId });
    expect(entry?.message).toMatch(new RegExp(`^<@${STAFF}> granted <@${memberId}> \\*\\*Titan\\*\\* \\(1 month, until <t:\\d+:f>\\), grant #\\d+ \\(no reason given\\)$`));
    expect(JSON.parse(entry?.data ?? '{}')).toMatchObject({ actorId: STAFF, targetId: memberId, reason: null, tier: 'titan' });
    const post = await h.discord.waitForMessage(h.discord.auditChannelId, (m) => m.embeds.some((e) => e.title === 'Staff grant' && (e.description ?? '').includes(`<@${memberId}>`)));
    expect(post.embeds[0]?.description).toContain(`<@${STAFF}>`);
  });
});

describe('/admin extend', () => {
  it('extends a timed grant: the role stays past the old end and goes at the new one', async () => {
    const memberId = guildMember();
    await admin('grant', STAFF, { member: memberId, tier: 'legendary', duration: '7d' });
    const [grant] = grantsOf(memberId);
    const oldEnd = grant?.expiresAt ?? 0;
    const reply = await admin('extend', STAFF, { member: memberId, duration: '3d' });
    const newEnd = grantsOf(memberId)[0]?.expiresAt ?? 0;
    expect(newEnd).toBe(oldEnd + 3 * DAY);
    const t = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;
    expect(reply.content).toBe(
      `Extended <@${memberId}>'s Legendary grant #${grant?.id} by 3 days: it now ends ${t(newEnd)} instead of ${t(oldEnd)}.\n<@${memberId}> now holds **Legendary** from staff grant #${grant?.id} until ${t(newEnd)}.`,
    );
    expect(staffAudits(memberId).map((a) => a.kind)).toEqual(['staff.grant', 'staff.extend']);

    await h.waitFor(() => holds(memberId).includes(ROLE_IDS.legendary));
    h.advance(oldEnd - h.now() + HOUR);
    await h.settle();
    expect(holds(memberId)).toContain(ROLE_IDS.legendary);
    h.advance(newEnd - h.now() + 1000);
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.legendary));
  });

  it('goodwill after a subscription: a grant of its tier from paid-through, so a cancelled member keeps the tier that much longer', async () => {
    const memberId = guildMember();
    const subId = await subscribeAndPay(h, { memberId, planId: PLAN_IDS.eliteMonthly, roleId: ROLE_IDS.elite, paidAt: h.now() - 5 * DAY });
    const reply = await admin('extend', STAFF, { member: memberId, duration: '7d' });
    const [goodwill] = grantsOf(memberId);
    const paidThrough = db().select().from(subscriptions).where(eq(subscriptions.id, subId)).get()?.paidThrough ?? 0;
    expect(goodwill).toMatchObject({ tierKey: 'elite', startsAt: paidThrough, expiresAt: paidThrough + 7 * DAY, grantedBy: STAFF });
    expect(reply.content).toMatch(new RegExp(`^Gave <@${memberId}> 7 days of goodwill Elite after PayPal subscription ${subId}: grant #\\d+, from <t:\\d+:f> until <t:\\d+:f>\\.`));
    expect(staffAudits(memberId)).toMatchObject([{ kind: 'staff.extend', subscriptionId: subId }]);

    // PayPal cancels: access runs to paid-through (policy period_end), then the goodwill week.
    h.paypal.setStatus(subId, 'CANCELLED');
    await deliverProcessed(h, h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.CANCELLED', subId));
    h.advance(paidThrough - h.now() + DAY);
    await h.settle();
    expect(holds(memberId)).toContain(ROLE_IDS.elite);
    h.advance(7 * DAY);
    await h.waitFor(() => !holds(memberId).includes(ROLE_IDS.elite));
  });

  it('refuses lifetime, a lifetime grant and a member with nothing, changing nothing', async () => {
    const memberId = guildMember();
    expect((await admin('extend', STAFF, { member: memberId, duration: '7d' })).content).toBe(`<@${memberId}> has no access to extend. Use \`/admin grant\` to give them a tier.`);
    await admin('grant', STAFF, { member: memberId, tier: 'elite' });
    expect((await admin('extend', STAFF, { member: memberId, duration: 'lifetime' })).content).toMatch(/Extend takes a length/);
    expect((await admin('extend', STAFF, { member: memberId, duration: '7d' })).content).toMatch(/through a lifetime grant: there is no end to extend/);
    expect(grantsOf(memberId).map((g) => g.expiresAt)).toEqual([null]);
    expect(staffAudits(memberId).map((a) => a.kind)).toEqual(['staff.grant']);
  });
});

describe('/admin lookup', () => {
  it('answers in the interaction callback itself (no "thinking…" message and no edit): a store read needs no defer', async () => {
    const memberId = guildMember();
    const call = h.discord.interact({ type: 'command', name: 'admin', subcommand: 'lookup', userId: STAFF, options: { member: memberId } });
    const answer = await call.response();
    expect(answer).toMatchObject({ type: 4, accepted: true, ephemeral: true });
    expect(answer.data?.embeds?.[0]?.description).toBe(`<@${memberId}> (${memberId})`);
    await h.settle();
    expect(call.edits()).toEqual([]);
  });

  it('shows entitlement, subscriptions, grants, masked serials and the last audit entries; the lookup itself is audited', async () => {
    const memberId = guildMember();
    const subId = await subscribeAndPay(h, { memberId, planId: PLAN_IDS.eliteMonthly, roleId: ROLE_IDS.elite, paidAt: h.now() - DAY });
    await admin('grant', STAFF, { member: memberId, tier: 'legendary', duration: '2w' });
    const serials = readMemberOverview({ store: h.service.store, vault: h.service.effects.vault }, memberId).serials;
    expect(serials.map((s) => s.scriptKey).sort()).toEqual(['advanced-scripts', 'starter-scripts']);

    // An earlier lookup and two extends: six entries besides lookups, of which the five newest show.
    await admin('lookup', STAFF, { member: memberId });
    await admin('extend', STAFF, { member: memberId, duration: '1d' });
    await admin('extend', STAFF, { member: memberId, duration: '12h' });
    const reply = await admin('lookup', STAFF, { member: memberId });
    const embed = reply.embeds?.[0];
    const field = (name: RegExp) => embed?.fields?.find((f) => name.test(f.name))?.value ?? '';
    expect(embed?.description).toBe(`<@${memberId}> (${memberId})`);
    expect(field(/^Entitlement$/)).toMatch(/^\*\*Legendary\*\* from staff grant #\d+, until <t:\d+:f>$/);
    expect(field(/^Subscriptions \(1\)$/)).toMatch(new RegExp(`^\`${subId}\` active · plan \`${PLAN_IDS.eliteMonthly}\` \\(Elite\\) · paid through <t:\\d+:D> · last payment 4\\.99 USD <t:\\d+:D>$`));
    expect(field(/^Grants \(1\)$/)).toMatch(new RegExp(`^#\\d+ \\*\\*Legendary\\*\\* until <t:\\d+:f>, running, by <@${STAFF}>$`));
    const serialLines = field(/^Serials \(2\)$/).split('\n');
    for (const s of serials) expect(serialLines).toContain(`${s.scriptKey}: \`CNC-****-****-****-${s.serial.slice(-4)}\` (active)`);
    for (const s of serials) expect(JSON.stringify(reply)).not.toContain(s.serial);
    const audit = field(/^Last audit entries$/).split('\n');
    expect(audit.map((line) => /^<t:\d+:f> ([a-z_.]+): /.exec(line)?.[1])).toEqual(['staff.extend', 'staff.extend', 'entitlement.changed', 'staff.grant', 'payment.recorded']);
    expect(audit[3]).toContain(`<@${STAFF}> granted <@${memberId}> **Legendary** (2 weeks, until <t:`);

    expect(staffAudits(memberId).map((a) => a.kind)).toEqual(['staff.grant', 'staff.lookup', 'staff.extend', 'staff.extend', 'staff.lookup']);
    expect(staffAudits(memberId)[4]?.message).toBe(`<@${STAFF}> looked up <@${memberId}> (no reason given)`);
  });
});
