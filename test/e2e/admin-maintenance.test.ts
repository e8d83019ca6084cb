import { eq } from 'drizzle-orm';
import { ApplicationCommandOptionType, Events, type Interaction } from 'discord.js';
import type { RESTPostAPIApplicationGuildCommandsJSONBody } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeMember } from '../../src/app/recompute-member.ts';
import { memberCommandDefinitions } from '../../src/discord/commands/definitions.ts';
import type { MaintenanceSubcommand } from '../../src/discord/commands/admin-maintenance.ts';
import { registerGuildCommands, restForToken } from '../../src/discord/commands-rest.ts';
import { insertGrant } from '../../src/store/grant-repo.ts';
import { ensureMember } from '../../src/store/member-repo.ts';
import { auditEntries, members, subscriptions } from '../../src/store/schema.ts';
import { startHarness, UNMANAGED_ROLE, type Harness } from '../helpers/harness.ts';
import { parseCsv } from '../helpers/csv.ts';
import { subscribeAndPay } from '../helpers/member-actions.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * /admin resync, export and reconcile through the real discord.js client. The
 * /admin definition and its staff guard are another module's; here a minimal
 * definition is registered and every /admin interaction is routed straight to
 * the service's adminMaintenance, as that router does once the staff check passed.
 */

const ROLE_LIMIT = 10;
const ROLE_WINDOW_MS = 500;
let h: Harness;
let staff: string;
let nextMember = 870000000000000000n;
const newMember = () => String(++nextMember);
/** On Discord before start, holding a tier role no one pays for. */
const holders = Array.from({ length: 25 }, () => newMember());
/** On Discord with no role; granted Titan in the store without a role sync having run. */
const granted = newMember();

beforeAll(async () => {
  h = await startHarness({
    overrides: { adminProgressEveryMs: 100, reconcilePacing: { paypalIntervalMs: 0 } },
    discord: {
      roleLimit: ROLE_LIMIT,
      roleWindowMs: ROLE_WINDOW_MS,
      members: [...holders.map((id) => ({ id, roles: [UNMANAGED_ROLE, ROLE_IDS.elite] })), { id: granted, roles: [UNMANAGED_ROLE] }],
    },
  });
  staff = h.discord.ownerId;
  const { rest, applicationId } = await restForToken(h.discord.apiUrl, h.discord.token);
  const admin = {
    name: 'admin',
    description: 'Staff commands',
    default_member_permissions: '0',
    options: [
      { type: ApplicationCommandOptionType.Subcommand, name: 'resync', description: 'Resync roles', options: [{ type: ApplicationCommandOptionType.User, name: 'member', description: 'One member' }] },
      { type: ApplicationCommandOptionType.Subcommand, name: 'export', description: 'Member CSV' },
      { type: ApplicationCommandOptionType.Subcommand, name: 'reconcile', description: 'Dry-run reconciliation' },
    ],
  } as const satisfies RESTPostAPIApplicationGuildCommandsJSONBody;
  await registerGuildCommands(rest, applicationId, h.discord.guildId, [...memberCommandDefinitions(h.service.tiers.current()), admin]);
  const client = h.service.discord.client;
  client.removeAllListeners(Events.InteractionCreate);
  client.on(Events.InteractionCreate, (i: Interaction) => {
    if (i.isChatInputCommand() && i.commandName === 'admin') void h.service.adminMaintenance.handle(i.options.getSubcommand() as MaintenanceSubcommand, i);
  });
});
afterAll(() => h.close());

const db = () => h.service.store.db;
const staffAudits = (kind: string) => db().select().from(auditEntries).where(eq(auditEntries.kind, kind)).all();
const admin = (subcommand: MaintenanceSubcommand, options: Record<string, string> = {}) => h.discord.interact({ type: 'command', name: 'admin', subcommand, userId: staff, options });

describe('/admin resync', () => {
  it('one member: their entitlement recomputed, the role applied, the reply after it landed, one audit entry naming staff and member', async () => {
    h.service.store.transaction((tx) => {
      ensureMember(tx, granted, h.now());
      insertGrant(tx, { memberId: granted, tierKey: 'titan', grantedBy: staff, reason: 'test', startsAt: h.now() - 1000, expiresAt: null }, h.now());
    });
    const call = admin('resync', { member: granted });
    expect(await call.response()).toMatchObject({ type: 5, ephemeral: true });
    const [edit] = await call.waitForEdits(1, 10_000);
    expect(edit?.body?.content).toBe(`Roles of <@${granted}> are in line with their entitlement: Titan.`);
    expect(h.discord.member(granted)).toContain(ROLE_IDS.titan);
    expect(staffAudits('staff.resync').find((a) => a.memberId === granted)?.message).toBe(`<@${staff}> resynced the roles of <@${granted}> (reason: /admin resync)`);
  });

  it('every member: a progress message edited as the jobs finish (done / total, 429s, errors), then a summary', async () => {
    h.discord.fault({ method: 'DELETE', path: /\/roles\//, status: 429, retryAfter: 1, times: 1 });
    const call = admin('resync');
    expect(await call.response()).toMatchObject({ type: 5, ephemeral: true });
    const done = await h.waitFor(() => (call.original()?.content.startsWith('Resync finished') === true ? call.original() : undefined), 20_000);
    // 25 holders lose Elite; the granted member is right already; the staff member holds nothing.
    expect(done?.content).toMatch(/^Resync finished in \d+ s: 26 \/ 26 members done · 1 × 429 from Discord · 0 error\(s\)\.$/);
    const progress = call.edits().flatMap((e) => (e.body?.content?.startsWith('Resyncing roles: ') === true ? [e.body.content] : []));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(/^Resyncing roles: \d+ \/ 26 members done · [01] × 429 from Discord · 0 error\(s\)$/);
    for (const id of holders) expect(h.discord.member(id)).toEqual([h.discord.roleId(UNMANAGED_ROLE)]);
    expect(staffAudits('staff.resync').some((a) => a.memberId === null && a.message.includes('every member (26)'))).toBe(true);
  }, 30_000);
});

describe('/admin export', () => {
  it('attaches every member as CSV that parses back to the stored rows, a formula-like cell neutralised', async () => {
    const payer = newMember();
    h.discord.addMember(payer);
    const subscriptionId = await subscribeAndPay(h, { memberId: payer, planId: PLAN_IDS.legendaryMonthly, roleId: ROLE_IDS.legendary, paidAt: h.now() - 1000 });
    const formula = '=HYPERLINK("x")';
    h.service.store.transaction((tx) => {
      ensureMember(tx, formula, h.now());
      recomputeMember(tx, h.service.effects, formula, h.service.tiers.current(), h.now(), { reason: 'test' });
    });
    const call = admin('export');
    const [edit] = await call.waitForEdits(1, 10_000);
    expect(edit?.body?.content).toMatch(/^Member list: \d+ member\(s\)\.$/);
    const file = edit?.message?.attachments[0];
    expect(file?.filename).toMatch(/^members-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = parseCsv(h.discord.attachment(file?.url ?? '')?.toString('utf8') ?? '');
    expect(rows[0]).toEqual(['discord_id', 'tier', 'source', 'state', 'paid_through', 'paypal_subscription_id', 'last_payment']);
    const all = db().select().from(members).all();
    expect(rows.slice(1).map((r) => r[0]).sort()).toEqual(all.map((m) => (m.discordUserId === formula ? `'${formula}` : m.discordUserId)).sort());
    const stored = db().select().from(subscriptions).where(eq(subscriptions.id, subscriptionId)).get();
    expect(rows.find((r) => r[0] === payer)).toEqual([
      payer,
      'legendary',
      'subscription',
      'active',
      new Date(stored?.paidThrough ?? 0).toISOString(),
      subscriptionId,
      new Date(stored?.lastPaymentAt ?? 0).toISOString(),
    ]);
    expect(rows.find((r) => r[0] === granted)).toEqual([granted, 'titan', 'grant', 'granted', '', '', '']);
    expect(staffAudits('staff.export')[0]?.message).toMatch(new RegExp(`^<@${staff}> exported the member list \\(${all.length} members, CSV\\)`));
  });
});

describe('/admin reconcile', () => {
  it('answers with the dry run: a table naming the PayPal subscription and the Discord member, and nothing changes', async () => {
    const payer = newMember();
    h.discord.addMember(payer);
    const subscriptionId = await subscribeAndPay(h, { memberId: payer, planId: PLAN_IDS.eliteMonthly, roleId: ROLE_IDS.elite, paidAt: h.now() - 1000 });
    h.paypal.setStatus(subscriptionId, 'CANCELLED');
    const call = admin('reconcile');
    const final = await h.waitFor(() => call.original()?.embeds[0], 15_000);
    expect(final.title).toBe('Reconciliation (dry run: nothing was changed)');
    expect(final.description).toContain('reconcile completed (dry run, nothing changed)');
    const row = final.description?.split('\n').find((l) => l.includes(subscriptionId));
    expect(row).toMatch(new RegExp(`^paypal +${subscriptionId} +${payer} +PayPal ACTIVE → CANCELLED; state active → cancelled +would apply what PayPal reports$`));
    expect(db().select().from(subscriptions).where(eq(subscriptions.id, subscriptionId)).get()?.state).toBe('active');
    expect(staffAudits('staff.reconcile')[0]?.message).toMatch(new RegExp(`^<@${staff}> ran a reconciliation dry run \\(\\d+ difference\\(s\\)\\)`));
  });
});
