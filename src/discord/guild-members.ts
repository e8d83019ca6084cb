import type { DiscordClient } from './client.ts';
import { translateDiscordError } from './errors.ts';
import { ConciergeError } from '../errors.ts';

/** The guild's member list (implements app/'s RoleHolders, app/resync.ts). */
export interface GuildMembers {
  listManagedRoleHolders(managedRoleIds: ReadonlySet<string>): Promise<string[]>;
}

export function createGuildMembers(discord: DiscordClient): GuildMembers {
  return { listManagedRoleHolders: (managedRoleIds) => listManagedRoleHolders(discord, managedRoleIds) };
}

/**
 * The guild's members who hold at least one managed role (a tier role),
 * from a full member fetch. `guild.members.fetch()` without arguments goes
 * over the gateway (op 8 REQUEST_GUILD_MEMBERS, answered in chunks of
 * 1,000), not REST: no rate-limited REST calls, and afterwards the member
 * cache holds every member with their current roles, which the resync's
 * role-sync jobs read instead of one GET each.
 */
async function listManagedRoleHolders(discord: DiscordClient, managedRoleIds: ReadonlySet<string>): Promise<string[]> {
  const g = discord.guild();
  if (g === null) throw new ConciergeError('discord_no_guild', `the bot is not in guild ${discord.guildId} (or the gateway is not ready)`, { retry: true });
  try {
    const all = await g.members.fetch();
    return [...all.values()].filter((m) => !m.user.bot && m.roles.cache.some((r) => managedRoleIds.has(r.id))).map((m) => m.id);
  } catch (err) {
    throw translateDiscordError(err, 'fetch guild members (gateway op 8)', g, null);
  }
}
