import { DiscordAPIError, HTTPError, PermissionFlagsBits, RateLimitError, RESTJSONErrorCodes, type Guild } from 'discord.js';
import { ConciergeError } from '../errors.ts';

/**
 * Discord failures in Concierge's one error family: what went wrong, whether
 * trying again can help (the job runner's retry bit), and for a permission
 * refusal what an admin must change.
 */

/**
 * What an admin must change so the bot can manage `roleId`, or null when it
 * can: the Manage Roles permission, and the bot's highest role strictly above
 * the role (Discord's hierarchy rule).
 */
export function describeRoleFix(g: Guild, roleId: string, fallbackName: string): string | null {
  const me = g.members.me;
  if (me === null) return null;
  if (!me.permissions.has(PermissionFlagsBits.ManageRoles)) return 'give Concierge the Manage Roles permission in Server Settings → Roles';
  const role = g.roles.cache.get(roleId);
  if (role === undefined) return `role ${fallbackName} (${roleId}) does not exist in the server: create it or fix role_id in the tiers file`;
  const top = me.roles.highest;
  if (g.roles.comparePositions(top, role) <= 0) return `drag role ${top.name} above ${role.name} in Server Settings → Roles`;
  return null;
}

/** Translates a discord.js failure: 5xx, network and timeouts are retried; 429 waits; 50013 names the fix and is final. */
export function translateDiscordError(err: unknown, what: string, g: Guild | null, roleId: string | null): ConciergeError {
  if (err instanceof ConciergeError) return err;
  if (err instanceof RateLimitError) {
    return new ConciergeError('discord_rate_limited', `Discord rate limit on ${what}: retry in ${err.retryAfter} ms`, { retry: true, retryAfterMs: err.retryAfter, cause: err });
  }
  if (err instanceof DiscordAPIError) {
    const exchange = `${err.method.toUpperCase()} ${err.url} → ${err.status} ${err.code}: ${err.message}`;
    if (err.status === 429) return new ConciergeError('discord_rate_limited', `Discord rate limit on ${what} (${exchange})`, { retry: true, retryAfterMs: 1000, cause: err });
    if (err.code === RESTJSONErrorCodes.MissingPermissions) {
      const fix = g !== null && roleId !== null ? describeRoleFix(g, roleId, roleId) : null;
      const text = fix ?? 'drag the Concierge role above every tier role and give it the Manage Roles permission in Server Settings → Roles';
      return new ConciergeError('discord_missing_permissions', `Discord refused ${what}: ${text} (${exchange})`, { retry: false, cause: err, context: { fix: text } });
    }
    // Other 4xx (unknown role 10011, bad request): trying again cannot help.
    return new ConciergeError('discord_rejected', `Discord rejected ${what} (${exchange})`, { retry: err.status >= 500, cause: err });
  }
  if (err instanceof HTTPError) {
    // discord.js has already retried a 5xx three times at once; the job queue adds real backoff.
    return new ConciergeError('discord_unavailable', `Discord answered ${err.status} to ${what} (${err.method.toUpperCase()} ${err.url})`, { retry: true, cause: err });
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ConciergeError('discord_unreachable', `Discord call ${what} failed: ${message}`, { retry: true, cause: err });
}
