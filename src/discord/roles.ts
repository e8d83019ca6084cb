import { AuditLogEvent, DiscordAPIError, RESTJSONErrorCodes, type Guild } from 'discord.js';
import { ConciergeError } from '../errors.ts';
import type { DiscordClient } from './client.ts';
import { translateDiscordError } from './errors.ts';

/**
 * Member roles on Discord, for role sync (implements app/'s RoleGateway,
 * app/sync-member-roles.ts): read what a member holds, add or remove one
 * role, with every failure translated into a ConciergeError that tells the
 * job runner whether trying again can help. Also remembers the
 * changes it made itself for a while, so the manual-edit listener can tell
 * its own GUILD_MEMBER_UPDATEs from a moderator's.
 */

export type RoleOp = 'add' | 'remove';

export interface MemberRoles {
  /** The member's role ids as Discord reports them now, or null when they are not in the guild (10007). */
  fetchRoles(userId: string): Promise<string[] | null>;
  apply(userId: string, roleId: string, op: RoleOp, reason: string): Promise<void>;
  /** True when Concierge itself made this change recently (its own update event is echoed back). */
  madeByUs(userId: string, roleId: string, op: RoleOp): boolean;
}

/** How long an own change is remembered: its GUILD_MEMBER_UPDATE follows within milliseconds. */
const OWN_CHANGE_TTL_MS = 30_000;

export function createMemberRoles(discord: DiscordClient, clock: () => number = Date.now): MemberRoles {
  const own = new Map<string, number>();
  const key = (userId: string, roleId: string, op: RoleOp) => `${userId}:${roleId}:${op}`;

  function guild(): Guild {
    const g = discord.guild();
    // Retryable: the gateway may still be (re)connecting; a guild the bot is not in is reported by the start-up check.
    if (g === null) throw new ConciergeError('discord_no_guild', `the bot is not in guild ${discord.guildId} (or the gateway is not ready)`, { retry: true });
    return g;
  }

  return {
    async fetchRoles(userId) {
      const g = guild();
      try {
        const member = await g.members.fetch({ user: userId, force: true });
        return [...member.roles.cache.keys()].filter((id) => id !== g.id);
      } catch (err) {
        if (err instanceof DiscordAPIError && (err.code === RESTJSONErrorCodes.UnknownMember || err.code === RESTJSONErrorCodes.UnknownUser)) return null;
        throw translateDiscordError(err, `GET member ${userId}`, g, null);
      }
    },

    async apply(userId, roleId, op, reason) {
      const g = guild();
      const now = clock();
      for (const [k, at] of own) if (now - at > OWN_CHANGE_TTL_MS) own.delete(k);
      // Noted before the call: the update event can arrive before the REST answer.
      own.set(key(userId, roleId, op), now);
      try {
        if (op === 'add') await g.members.addRole({ user: userId, role: roleId, reason });
        else await g.members.removeRole({ user: userId, role: roleId, reason });
      } catch (err) {
        own.delete(key(userId, roleId, op));
        throw translateDiscordError(err, `${op === 'add' ? 'PUT' : 'DELETE'} role ${roleId} of member ${userId}`, g, roleId);
      }
    },

    madeByUs(userId, roleId, op) {
      const at = own.get(key(userId, roleId, op));
      return at !== undefined && clock() - at <= OWN_CHANGE_TTL_MS;
    },
  };
}

/**
 * Who last edited this member's roles, from the guild's audit log (needs View
 * Audit Log); null when it cannot be read. Best effort: it only names the
 * editor in the audit entry.
 */
export async function lastRoleEditor(g: Guild, userId: string): Promise<string | null> {
  try {
    const logs = await g.fetchAuditLogs({ type: AuditLogEvent.MemberRoleUpdate, limit: 10 });
    const entry = logs.entries.find((e) => e.targetId === userId);
    return entry?.executorId ?? null;
  } catch {
    return null; // the editor's name is a nicety; the edit is handled either way
  }
}
