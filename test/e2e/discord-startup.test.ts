import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService } from '../../src/service.ts';
import { auditJob } from '../../src/jobs/definitions.ts';
import { auditEntries, jobs } from '../../src/store/schema.ts';
import type { DiscordStandIn } from '../../src/stand-ins/discord/server.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import { UNMANAGED_ROLE, createTestDiscord, discordEnv, startHarness, testEnv, type Harness } from '../helpers/harness.ts';
import { ROLE_IDS, TIERS_FIXTURE_PATH } from '../helpers/tiers.ts';

/** Start-up against Discord: a refused privileged intent, a role hierarchy the bot cannot manage, gateway state in /readyz. */

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('start-up against Discord', () => {
  it('fails with the exact portal switch when the Server Members intent is refused (4014)', async () => {
    const paypal: PaypalStandIn = await createPaypalStandIn();
    const discord: DiscordStandIn = await createTestDiscord({ privilegedIntentsEnabled: false });
    const dir = mkdtempSync(join(tmpdir(), 'concierge-intents-'));
    cleanup.push(async () => {
      await paypal.close();
      await discord.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const config = loadConfig(testEnv(paypal.url, join(dir, 'c.db'), discordEnv(discord)));
    await expect(startService(config, createLogger('silent'))).rejects.toThrow(
      'enable "Server Members Intent" under Bot → Privileged Gateway Intents in the Discord developer portal',
    );
  });

  it('a tier role above the bot: keeps running, audits the fix once, /readyz 503 names discord_roles', async () => {
    const h: Harness = await startHarness({ discord: { botRolePosition: 3 } }); // Titan (3) and Warlord (4) at or above the bot
    cleanup.push(() => h.close());
    const res = await fetch(`${h.service.url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { failing: string[]; checks: Record<string, { detail?: string }> };
    expect(body.failing).toEqual(['discord_roles']);
    expect(body.checks['discord_roles']?.detail).toContain('drag role Concierge above Warlord in Server Settings → Roles');
    const audit = h.service.store.db.select().from(auditEntries).where(eq(auditEntries.kind, 'discord.setup')).all();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ severity: 'danger' });
    expect(audit[0]?.message).toContain('drag role Concierge above Titan in Server Settings → Roles');
    // Fixed in the server: readiness recovers without a restart.
    h.discord.setBotRolePosition(10);
    for (let i = 0; (await fetch(`${h.service.url}/readyz`)).status !== 200; i++) {
      if (i > 100) throw new Error('/readyz did not recover');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('a wrong audit channel: keeps running, /readyz 503 names discord_audit_channel and the variable; nothing is posted elsewhere', async () => {
    const wrong = '400000000000009999'; // no channel of the server has this id
    const h: Harness = await startHarness({ env: { DISCORD_AUDIT_CHANNEL_ID: wrong } });
    cleanup.push(() => h.close());
    const res = await fetch(`${h.service.url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { failing: string[]; checks: Record<string, { detail?: string }> };
    expect(body.failing).toEqual(['discord_audit_channel']);
    expect(body.checks['discord_audit_channel']?.detail).toBe(`audit channel ${wrong} is not a text channel of this server: fix DISCORD_AUDIT_CHANNEL_ID`);
    const audit = h.service.store.db.select().from(auditEntries).where(eq(auditEntries.kind, 'discord.setup')).all();
    expect(audit.map((a) => a.message)).toEqual([expect.stringContaining(`audit channel ${wrong} is not a text channel of this server`)]);
    // Its post cannot reach a channel that does not exist: dead-lettered at once (not retried for an hour), and never sent anywhere else.
    await h.waitFor(() => h.service.store.db.select().from(jobs).where(eq(jobs.kind, auditJob.kind)).all().some((j) => j.status === 'dead'));
    expect(h.service.store.db.select().from(jobs).where(eq(jobs.kind, auditJob.kind)).all().map((j) => [j.status, j.attempts])).toEqual([['dead', 1]]);
    expect(h.discord.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages'))).toEqual([]);
    expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
  });

  it('/readyz reports the gateway: reconnecting while the gateway is down, ready after the resume', async () => {
    const h: Harness = await startHarness();
    cleanup.push(() => h.close());
    const check = async () => ((await (await fetch(`${h.service.url}/readyz`)).json()) as { checks: Record<string, { state?: string }> }).checks['discord']?.state;
    expect(await check()).toBe('ready');
    h.discord.closeGateway(4000);
    await h.waitFor(() => h.service.discord.state() === 'reconnecting');
    for (let i = 0; (await check()) !== 'ready'; i++) {
      if (i > 150) throw new Error('gateway did not resume');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(h.discord.gatewayLog.some((e) => e.kind === 'resumed')).toBe(true);
  });
});

describe('policy on_manual_role_edit: report', () => {
  /** A harness whose tiers file says `report`. */
  async function reportHarness(): Promise<Harness> {
    const dir = mkdtempSync(join(tmpdir(), 'concierge-report-'));
    const tiersFile = join(dir, 'tiers.yaml');
    writeFileSync(tiersFile, readFileSync(TIERS_FIXTURE_PATH, 'utf8').replace('on_manual_role_edit: revert', 'on_manual_role_edit: report'));
    const h = await startHarness({ env: { TIERS_FILE: tiersFile } });
    cleanup.push(async () => {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    });
    expect(h.service.tiers.current().policy.on_manual_role_edit).toBe('report');
    return h;
  }
  const manualEdits = (h: Harness) => h.service.store.db.select().from(auditEntries).where(eq(auditEntries.kind, 'roles.manual_edit')).all();
  /** Role writes (PUT/DELETE/PATCH) Concierge sent for this member, from request number `from` on. */
  const writesFor = (h: Harness, memberId: string, from = 0) => h.discord.requests.slice(from).filter((r) => r.method !== 'GET' && r.path.includes(memberId));
  /** The audit channel's embeds about the member: the entry is posted, not only stored. */
  const postedAbout = (h: Harness, memberId: string) => h.discord.messages(h.discord.auditChannelId).flatMap((m) => m.embeds).filter((e) => (e.description ?? '').includes(`<@${memberId}>`));

  it('a manual addition of a managed role to a member entitled to nothing is audited and left as is', async () => {
    const h = await reportHarness();
    const memberId = '700000000000000001';
    h.discord.addMember(memberId, { roles: [UNMANAGED_ROLE] });
    h.discord.setMemberRoles(memberId, [UNMANAGED_ROLE, ROLE_IDS.warlord]);
    await h.waitFor(() => manualEdits(h)[0]);
    await h.waitFor(() => postedAbout(h, memberId).length > 0);
    await h.settle();
    const audit = manualEdits(h);
    expect(audit).toHaveLength(1);
    expect(audit[0]?.message).toContain('gave Warlord');
    expect(audit[0]?.message).toContain('policy report');
    expect(h.discord.member(memberId)).toContain(ROLE_IDS.warlord);
    expect(writesFor(h, memberId)).toHaveLength(0);
  });

  it('a manual removal of a managed role from an entitled member is audited and left as is', async () => {
    const h = await reportHarness();
    const memberId = '700000000000000002';
    h.discord.addMember(memberId, { roles: [UNMANAGED_ROLE] });
    h.grantTier(memberId, 'legendary', null);
    await h.discord.waitForCalls('PUT', new RegExp(`/members/${memberId}/roles/${ROLE_IDS.legendary}$`));
    await h.waitFor(() => h.discord.member(memberId)?.includes(ROLE_IDS.legendary));
    await h.settle();
    const from = h.discord.requests.length;

    h.discord.setMemberRoles(memberId, [UNMANAGED_ROLE]);
    await h.waitFor(() => manualEdits(h)[0]);
    await h.waitFor(() => postedAbout(h, memberId).some((e) => /removed Legendary/.test(e.description ?? '')));
    await h.settle();
    const audit = manualEdits(h);
    expect(audit).toHaveLength(1);
    expect(audit[0]?.message).toContain('removed Legendary');
    expect(audit[0]?.message).toContain('policy report');
    expect(h.discord.member(memberId)).toEqual([h.discord.roleId(UNMANAGED_ROLE)]);
    expect(writesFor(h, memberId, from)).toHaveLength(0);
  });
});
