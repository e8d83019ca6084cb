import { AuditLogEvent, GatewayDispatchEvents, GatewayIntentBits, PermissionFlagsBits, type APIAuditLogEntry } from 'discord-api-types/v10';
import { snowflake } from './ids.ts';
import { unknown } from './errors.ts';
import { apiMember, apiRole, apiUser, type StoredMember, type StoredRole, type StoredUser } from './shapes.ts';
import { DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS, assertCanManageRoles, hasPermission, toBits, type HierarchyView } from './permissions.ts';

/**
 * The guild: roles, users, members and its audit log. Every change is
 * reported through `emit` as the gateway dispatch Discord would send, with
 * the intent a session needs to receive it; whether the change came over
 * REST or from the test makes no difference.
 */

export interface DispatchEvent {
  t: GatewayDispatchEvents;
  d: unknown;
  /** The intent bit a session needs for this event; null: every session gets it. */
  intent: number | null;
}

export interface RoleSpec {
  /** A fixed id (e.g. a tier's role_id from a tiers file); default a fresh snowflake. */
  id?: string;
  name: string;
  position: number;
  permissions?: bigint | number | string;
  color?: number;
  hoist?: boolean;
  mentionable?: boolean;
}

export interface MemberSpec {
  /** Role ids or role names. */
  roles?: readonly string[];
  username?: string;
  globalName?: string;
  bot?: boolean;
}

export interface GuildStateOptions {
  guildName: string;
  roles: readonly RoleSpec[];
  botRolePosition: number | undefined;
  botPermissions: bigint | number | string | undefined;
  emit: (e: DispatchEvent) => void;
}

export type GuildState = ReturnType<typeof createGuildState>;

export function createGuildState(opts: GuildStateOptions) {
  const guildId = snowflake();
  const applicationId = snowflake();
  const botUserId = applicationId; // Discord gives a bot user the application's id
  const ownerId = snowflake();
  const users = new Map<string, StoredUser>();
  const roles = new Map<string, StoredRole>();
  const members = new Map<string, StoredMember>();
  const audit: APIAuditLogEntry[] = [];
  const { emit } = opts;

  users.set(botUserId, { id: botUserId, username: 'Concierge', globalName: null, bot: true });
  users.set(ownerId, { id: ownerId, username: 'guild-owner', globalName: 'Guild Owner', bot: false });
  roles.set(guildId, { id: guildId, name: '@everyone', position: 0, permissions: DEFAULT_EVERYONE_PERMISSIONS, color: 0, hoist: false, mentionable: false, managedBy: null });
  for (const spec of opts.roles) insertRole(spec);
  const highest = Math.max(0, ...opts.roles.map((r) => r.position));
  const botRoleId = insertRole({ name: 'Concierge', position: opts.botRolePosition ?? highest + 1, permissions: toBits(opts.botPermissions, DEFAULT_BOT_PERMISSIONS) }, botUserId).id;
  members.set(botUserId, { userId: botUserId, roles: [botRoleId], joinedAt: new Date().toISOString(), nick: null });
  members.set(ownerId, { userId: ownerId, roles: [], joinedAt: new Date().toISOString(), nick: null });

  function insertRole(spec: RoleSpec, managedBy: string | null = null): StoredRole {
    if (spec.id !== undefined && roles.has(spec.id)) throw new Error(`Discord stand-in: role id ${spec.id} already exists`);
    const role: StoredRole = {
      id: spec.id ?? snowflake(),
      name: spec.name,
      position: spec.position,
      permissions: toBits(spec.permissions, 0n),
      color: spec.color ?? 0,
      hoist: spec.hoist ?? false,
      mentionable: spec.mentionable ?? false,
      managedBy,
    };
    roles.set(role.id, role);
    return role;
  }

  const view: HierarchyView = {
    guildId,
    ownerId,
    role: (id) => roles.get(id),
    memberRoles: (id) => members.get(id)?.roles,
  };

  /** A role id, or the id of the one role with that name. */
  function resolveRole(ref: string): string {
    if (roles.has(ref)) return ref;
    const named = [...roles.values()].filter((r) => r.name === ref);
    if (named.length === 1 && named[0]) return named[0].id;
    throw new Error(`Discord stand-in: no role with id or unique name "${ref}"`);
  }

  function user(id: string): StoredUser {
    const u = users.get(id);
    if (!u) throw unknown('user');
    return u;
  }

  function member(id: string): StoredMember {
    const m = members.get(id);
    if (!m) throw unknown('member');
    return m;
  }

  function memberPayload(m: StoredMember) {
    return { ...apiMember(m, user(m.userId)), guild_id: guildId };
  }

  function emitRole(t: GatewayDispatchEvents, role: StoredRole): void {
    emit({ t, d: { guild_id: guildId, role: apiRole(role) }, intent: GatewayIntentBits.Guilds });
  }

  function recordRoleAudit(targetId: string, actorId: string, added: string[], removed: string[], reason: string | null): void {
    const named = (ids: string[]) => ids.map((id) => ({ id, name: roles.get(id)?.name ?? '' }));
    const changes = [
      ...(added.length ? [{ key: '$add' as const, new_value: named(added) }] : []),
      ...(removed.length ? [{ key: '$remove' as const, new_value: named(removed) }] : []),
    ];
    const entry: APIAuditLogEntry = { id: snowflake(), target_id: targetId, user_id: actorId, action_type: AuditLogEvent.MemberRoleUpdate, changes, ...(reason ? { reason } : {}) };
    audit.push(entry);
    // Discord sends this only to bots that may view the audit log.
    if (hasPermission(view, botUserId, PermissionFlagsBits.ViewAuditLog)) {
      emit({ t: GatewayDispatchEvents.GuildAuditLogEntryCreate, d: { ...entry, guild_id: guildId }, intent: GatewayIntentBits.GuildModeration });
    }
  }

  /**
   * Replace a member's roles. With `check`, Discord's rules for `actorId` apply
   * to every role added or removed (REST); without, it is a moderator in the client (test).
   */
  function setRoles(userId: string, next: readonly string[], o: { actorId: string; reason: string | null; check: boolean }): StoredMember {
    const m = member(userId);
    const wanted = [...new Set(next.filter((id) => id !== guildId))];
    for (const id of wanted) if (!roles.has(id)) throw unknown('role');
    const added = wanted.filter((id) => !m.roles.includes(id));
    const removed = m.roles.filter((id) => !wanted.includes(id));
    if (o.check) assertCanManageRoles(view, o.actorId, [...added, ...removed]);
    if (added.length === 0 && removed.length === 0) return m;
    m.roles = [...m.roles.filter((id) => !removed.includes(id)), ...added];
    recordRoleAudit(userId, o.actorId, added, removed, o.reason);
    emit({ t: GatewayDispatchEvents.GuildMemberUpdate, d: memberPayload(m), intent: GatewayIntentBits.GuildMembers });
    return m;
  }

  return {
    guildId,
    name: opts.guildName,
    applicationId,
    botUserId,
    ownerId,
    botRoleId,
    view,
    resolveRole,
    user,
    knownUser: (id: string): StoredUser | undefined => users.get(id),
    member,
    findMember: (id: string): StoredMember | undefined => members.get(id),
    /** Members sorted by user id, as Discord lists them. */
    members: (): StoredMember[] => [...members.values()].sort((a, b) => (BigInt(a.userId) < BigInt(b.userId) ? -1 : 1)),
    memberPayload,
    role: (id: string): StoredRole | undefined => roles.get(id),
    roles: (): StoredRole[] => [...roles.values()].sort((a, b) => a.position - b.position),
    auditLog: (): readonly APIAuditLogEntry[] => audit,
    auditUsers: () => [...new Set(audit.flatMap((e) => [e.user_id, e.target_id]))].flatMap((id) => (id && users.has(id) ? [apiUser(user(id))] : [])),

    addRole(spec: RoleSpec): StoredRole {
      const role = insertRole(spec);
      emitRole(GatewayDispatchEvents.GuildRoleCreate, role);
      return role;
    },

    updateRole(id: string, patch: { position?: number; permissions?: bigint | number | string; name?: string }): StoredRole {
      const role = roles.get(id);
      if (!role) throw unknown('role');
      if (patch.position !== undefined) role.position = patch.position;
      if (patch.permissions !== undefined) role.permissions = BigInt(patch.permissions);
      if (patch.name !== undefined) role.name = patch.name;
      emitRole(GatewayDispatchEvents.GuildRoleUpdate, role);
      return role;
    },

    addMember(userId: string, spec: MemberSpec = {}): StoredMember {
      if (members.has(userId)) throw new Error(`Discord stand-in: ${userId} is already a member`);
      const known = users.get(userId);
      const u: StoredUser = {
        id: userId,
        username: spec.username ?? known?.username ?? `user${userId.slice(-6)}`,
        globalName: spec.globalName ?? known?.globalName ?? null,
        bot: spec.bot ?? known?.bot ?? false,
      };
      users.set(userId, u);
      const m: StoredMember = { userId, roles: (spec.roles ?? []).map(resolveRole), joinedAt: new Date().toISOString(), nick: null };
      members.set(userId, m);
      emit({ t: GatewayDispatchEvents.GuildMemberAdd, d: memberPayload(m), intent: GatewayIntentBits.GuildMembers });
      return m;
    },

    /** The user leaves; Discord forgets the member (and its roles), the user stays known. */
    removeMember(userId: string): void {
      member(userId);
      members.delete(userId);
      emit({ t: GatewayDispatchEvents.GuildMemberRemove, d: { guild_id: guildId, user: apiUser(user(userId)) }, intent: GatewayIntentBits.GuildMembers });
    },

    setRoles,

    addMemberRole(userId: string, roleId: string, actorId: string, reason: string | null): void {
      const m = member(userId);
      if (!roles.has(roleId)) throw unknown('role');
      assertCanManageRoles(view, actorId, [roleId]);
      if (!m.roles.includes(roleId)) setRoles(userId, [...m.roles, roleId], { actorId, reason, check: false });
    },

    removeMemberRole(userId: string, roleId: string, actorId: string, reason: string | null): void {
      const m = member(userId);
      if (!roles.has(roleId)) throw unknown('role');
      assertCanManageRoles(view, actorId, [roleId]);
      if (m.roles.includes(roleId)) setRoles(userId, m.roles.filter((id) => id !== roleId), { actorId, reason, check: false });
    },

    assertGuild(id: string): void {
      if (id !== guildId) throw unknown('guild');
    },
  };
}
