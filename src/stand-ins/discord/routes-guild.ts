import { AuditLogEvent, PermissionFlagsBits } from 'discord-api-types/v10';
import { ApiFailure, invalidFormBody, missingAccess, missingPermissions } from './errors.ts';
import { apiGuild, apiMember, apiRole } from './shapes.ts';
import { hasPermission } from './permissions.ts';
import type { GuildState } from './state.ts';
import type { ChannelStore } from './channels.ts';
import type { BucketSpec } from './rate-limit.ts';
import type { Route, RouteContext } from './http.ts';

/**
 * Guild, roles, members and the audit log. Member role edits (PUT/DELETE a
 * role, PATCH the member) share one bucket per guild, as on Discord
 * (observed X-RateLimit-Limit 10).
 */

export interface GuildRouteDeps {
  guild: GuildState;
  channels: ChannelStore;
  memberRoleBucket: (guildId: string) => BucketSpec;
  privilegedIntentsEnabled: () => boolean;
}

export function guildRoutes(d: GuildRouteDeps): Route[] {
  const { guild } = d;
  const bot = guild.botUserId;
  const inGuild = (c: RouteContext): void => guild.assertGuild(c.params['guild'] ?? '');
  const roleBucket = (p: Record<string, string>) => d.memberRoleBucket(p['guild'] ?? '');
  const memberJson = (userId: string) => apiMember(guild.member(userId), guild.user(userId));

  function guildJson(withCounts: boolean) {
    const base = apiGuild({ id: guild.guildId, name: guild.name, ownerId: guild.ownerId, applicationId: guild.applicationId, systemChannelId: null, roles: guild.roles(), memberCount: guild.members().length });
    return withCounts ? { ...base, approximate_member_count: guild.members().length, approximate_presence_count: 0 } : base;
  }

  return [
    { method: 'GET', template: '/guilds/:guild', auth: true, handle: (c) => (inGuild(c), { status: 200, json: guildJson(c.query.get('with_counts') === 'true') }) },
    { method: 'GET', template: '/guilds/:guild/roles', auth: true, handle: (c) => (inGuild(c), { status: 200, json: guild.roles().map(apiRole) }) },
    { method: 'GET', template: '/guilds/:guild/channels', auth: true, handle: (c) => (inGuild(c), { status: 200, json: d.channels.textChannels().map(d.channels.payload) }) },
    {
      method: 'GET',
      template: '/guilds/:guild/members',
      auth: true,
      handle(c) {
        inGuild(c);
        // Listing members needs the privileged Server Members intent enabled in the developer portal.
        if (!d.privilegedIntentsEnabled()) throw missingAccess();
        const limit = Number(c.query.get('limit') ?? '1');
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidFormBody([{ path: ['limit'], code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 1000.' }]);
        const after = BigInt(c.query.get('after') ?? '0');
        const list = guild.members().filter((m) => BigInt(m.userId) > after).slice(0, limit);
        return { status: 200, json: list.map((m) => memberJson(m.userId)) };
      },
    },
    {
      method: 'GET',
      template: '/guilds/:guild/members/search',
      auth: true,
      handle(c) {
        inGuild(c);
        const q = (c.query.get('query') ?? '').toLowerCase();
        const limit = Math.min(1000, Number(c.query.get('limit') ?? '1'));
        const list = guild.members().filter((m) => {
          const u = guild.user(m.userId);
          return u.username.toLowerCase().startsWith(q) || (u.globalName ?? '').toLowerCase().startsWith(q) || (m.nick ?? '').toLowerCase().startsWith(q);
        });
        return { status: 200, json: list.slice(0, limit).map((m) => memberJson(m.userId)) };
      },
    },
    { method: 'GET', template: '/guilds/:guild/members/:user', auth: true, handle: (c) => (inGuild(c), { status: 200, json: memberJson(c.params['user'] ?? '') }) },
    {
      method: 'PATCH',
      template: '/guilds/:guild/members/:user',
      auth: true,
      bucket: roleBucket,
      handle(c) {
        inGuild(c);
        const userId = c.params['user'] ?? '';
        const body = (c.body ?? {}) as { roles?: unknown };
        guild.member(userId);
        if (body.roles !== undefined && body.roles !== null) {
          if (!Array.isArray(body.roles) || body.roles.some((r) => typeof r !== 'string' || !/^\d{17,20}$/.test(r))) {
            throw invalidFormBody([{ path: ['roles'], code: 'NUMBER_TYPE_COERCE', message: 'Value is not snowflake.' }]);
          }
          guild.setRoles(userId, body.roles as string[], { actorId: bot, reason: c.reason, check: true });
        }
        return { status: 200, json: memberJson(userId) };
      },
    },
    {
      method: 'PUT',
      template: '/guilds/:guild/members/:user/roles/:role',
      auth: true,
      bucket: roleBucket,
      handle(c) {
        inGuild(c);
        guild.addMemberRole(c.params['user'] ?? '', c.params['role'] ?? '', bot, c.reason);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      template: '/guilds/:guild/members/:user/roles/:role',
      auth: true,
      bucket: roleBucket,
      handle(c) {
        inGuild(c);
        guild.removeMemberRole(c.params['user'] ?? '', c.params['role'] ?? '', bot, c.reason);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      template: '/guilds/:guild/audit-logs',
      auth: true,
      handle(c) {
        inGuild(c);
        if (!hasPermission(guild.view, bot, PermissionFlagsBits.ViewAuditLog)) throw missingPermissions();
        const userId = c.query.get('user_id');
        const action = c.query.get('action_type');
        const before = c.query.get('before');
        const limit = Math.min(100, Number(c.query.get('limit') ?? '50'));
        if (action !== null && Number(action) !== AuditLogEvent.MemberRoleUpdate && !(Number(action) in AuditLogEvent)) throw new ApiFailure(400, 50035, 'Invalid Form Body');
        const entries = [...guild.auditLog()]
          .filter((e) => (userId === null || e.user_id === userId) && (action === null || e.action_type === Number(action)) && (before === null || BigInt(e.id) < BigInt(before)))
          .reverse()
          .slice(0, limit);
        return {
          status: 200,
          json: { audit_log_entries: entries, users: guild.auditUsers(), integrations: [], webhooks: [], guild_scheduled_events: [], threads: [], application_commands: [], auto_moderation_rules: [] },
        };
      },
    },
  ];
}
