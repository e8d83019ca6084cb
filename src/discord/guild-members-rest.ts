import { DiscordAPIError, RESTJSONErrorCodes, Routes, type REST } from 'discord.js';
import type { APIGuildMember } from 'discord-api-types/v10';
import { INTENTS_FIX } from './client.ts';
import { translateDiscordError } from './errors.ts';
import { ConciergeError } from '../errors.ts';

/**
 * The guild's members and their managed roles over REST (implements app/'s
 * GuildRoleReader, app/reconcile-discord.ts), for the CLI: it must not open a
 * gateway session while the service holds one. Pages of 1,000 by member id
 * (`GET /guilds/{id}/members?limit=1000&after=`); discord.js paces them by
 * the route's rate-limit headers. Reads only: fixes go through the service's
 * role-sync jobs.
 */

const PAGE = 1000;

export function createRestGuildMembers(rest: REST, guildId: string) {
  return {
    async readManagedRoles(managedRoleIds: ReadonlySet<string>, candidates: ReadonlySet<string>): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      for (let after = '0'; ; ) {
        const page = await fetchPage(rest, guildId, after);
        for (const m of page) {
          if (m.user.bot === true) continue;
          const held = m.roles.filter((r) => managedRoleIds.has(r));
          if (held.length > 0 || candidates.has(m.user.id)) out.set(m.user.id, held);
        }
        const last = page.at(-1);
        if (page.length < PAGE || last === undefined) return out;
        after = last.user.id;
      }
    },
  };
}

async function fetchPage(rest: REST, guildId: string, after: string): Promise<APIGuildMember[]> {
  try {
    return (await rest.get(Routes.guildMembers(guildId), { query: new URLSearchParams({ limit: String(PAGE), after }) })) as APIGuildMember[];
  } catch (err) {
    if (err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.MissingAccess) {
      throw new ConciergeError('discord_members_access', `Discord refused the member list of guild ${guildId} (50001): ${INTENTS_FIX}, and check DISCORD_GUILD_ID`, { retry: false, cause: err });
    }
    throw translateDiscordError(err, `list members of guild ${guildId}`, null, null);
  }
}
