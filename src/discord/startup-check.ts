import { createHash } from 'node:crypto';
import { ChannelType, Events } from 'discord.js';
import { recordAudit } from '../app/audit.ts';
import type { Check } from '../app/readiness.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import type { TiersSource } from '../tiers.ts';
import type { DiscordClient } from './client.ts';
import { describeRoleFix } from './errors.ts';

/**
 * Start-up check (SPEC "Role hierarchy"): the guild and the audit channel
 * exist, every tier role exists, and the bot can manage each of them (Manage
 * Roles, highest role above the tier role). Problems are logged and audited
 * once with the exact fix; Concierge keeps running and /readyz names the
 * failing check. Re-run when roles change or the tiers file is reloaded, so
 * readiness recovers once an admin fixes the server.
 */

export interface StartupCheck {
  run(): void;
  checks(): Record<string, Check>;
}

export function createStartupCheck(d: { discord: DiscordClient; auditChannelId: string; store: Store; tiers: TiersSource; clock: () => number; log: Logger }): StartupCheck {
  let results: Record<string, Check> = {};
  let lastAudited: string | null = null;

  function evaluate(): Record<string, Check> {
    const guild = d.discord.guild();
    if (guild === null) {
      const detail = `the bot is not in guild ${d.discord.guildId}: invite it with the applications.commands and bot scopes, or fix DISCORD_GUILD_ID`;
      return { discord_guild: { ok: false, detail } };
    }
    const channel = guild.channels.cache.get(d.auditChannelId);
    const auditOk = channel !== undefined && channel.type === ChannelType.GuildText;
    const roleProblems = d.tiers
      .current()
      .tiers.map((t) => describeRoleFix(guild, t.role_id, t.name))
      .filter((p): p is string => p !== null);
    return {
      discord_guild: { ok: true },
      discord_audit_channel: auditOk ? { ok: true } : { ok: false, detail: `audit channel ${d.auditChannelId} is not a text channel of this server: fix DISCORD_AUDIT_CHANNEL_ID` },
      discord_roles: roleProblems.length === 0 ? { ok: true } : { ok: false, detail: [...new Set(roleProblems)].join('; ') },
    };
  }

  function run(): void {
    results = evaluate();
    const problems = Object.entries(results)
      .filter(([, c]) => !c.ok)
      .map(([name, c]) => `${name}: ${c.detail ?? 'failed'}`);
    if (problems.length === 0) {
      if (lastAudited !== null) d.log.info('Discord set-up problems are fixed');
      lastAudited = null;
      return;
    }
    const text = problems.join('\n');
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
    if (digest === lastAudited) return;
    lastAudited = digest;
    d.log.error({ problems }, 'Concierge cannot manage the Discord server as configured');
    d.store.transaction((tx) =>
      recordAudit(tx, { kind: 'discord.setup', severity: 'danger', message: `Concierge cannot manage every tier role. Fix:\n${text}`, data: { problems } }, d.clock()),
    );
  }

  const client = d.discord.client;
  for (const event of [Events.GuildRoleCreate, Events.GuildRoleUpdate, Events.GuildRoleDelete, Events.GuildMemberUpdate, Events.ChannelDelete] as const) {
    client.on(event, () => {
      if (d.discord.guild() !== null) run();
    });
  }
  d.tiers.onChange(() => run());

  return { run, checks: () => results };
}
