import type { GuildMember } from 'discord.js';
import type { DiscordClient } from './client.ts';
import { translateDiscordError } from './errors.ts';
import { ConciergeError } from '../errors.ts';

/** The guild's member list (implements app/'s RoleHolders, app/resync.ts, and GuildRoleReader, app/reconcile-discord.ts). */
export interface GuildMembers {
  listManagedRoleHolders(managedRoleIds: ReadonlySet<string>): Promise<string[]>;
  readManagedRoles(managedRoleIds: ReadonlySet<string>, candidates: ReadonlySet<string>): Promise<Map<string, string[]>>;
}

export function createGuildMembers(discord: DiscordClient): GuildMembers {
  return {
    listManagedRoleHolders: async (managedRoleIds) => {
      const all = await fetchAllMembers(discord);
      return all.filter((m) => m.roles.cache.some((r) => managedRoleIds.has(r.id))).map((m) => m.id);
    },
    readManagedRoles: async (managedRoleIds, candidates) => {
      const out = new Map<string, string[]>();
      for (const m of await fetchAllMembers(discord)) {
        const held = [...m.roles.cache.keys()].filter((id) => managedRoleIds.has(id));
        if (held.length > 0 || candidates.has(m.id)) out.set(m.id, held);
      }
      return out;
    },
  };
}

/**
 * Every member but bots, from a full member fetch. `guild.members.fetch()`
 * without arguments goes over the gateway (op 8 REQUEST_GUILD_MEMBERS,
 * answered in chunks of 1,000), not REST: no rate-limited REST calls, and
 * afterwards the member cache holds every member with their current roles,
 * which a bulk resync's role-sync jobs read instead of one GET each.
 */
async function fetchAllMembers(discord: DiscordClient): Promise<GuildMember[]> {
  const g = discord.guild();
  if (g === null) throw new ConciergeError('discord_no_guild', `the bot is not in guild ${discord.guildId} (or the gateway is not ready)`, { retry: true });
  try {
    const all = await g.members.fetch();
    return [...all.values()].filter((m) => !m.user.bot);
  } catch (err) {
    throw translateDiscordError(err, 'fetch guild members (gateway op 8)', g, null);
  }
}
