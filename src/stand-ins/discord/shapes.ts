import {
  ChannelType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  type APIDMChannel,
  type ChannelFlags,
  type GuildMemberFlags,
  type RoleFlags,
  type UserFlags,
  type APIGuild,
  type APIGuildMember,
  type APIRole,
  type APITextChannel,
  type APIUser,
} from 'discord-api-types/v10';

/**
 * What the stand-in stores, and the JSON Discord sends for it. Shapes are
 * typed with discord-api-types, so a field discord.js reads is never missing.
 */

export interface StoredRole {
  id: string;
  name: string;
  position: number;
  permissions: bigint;
  color: number;
  hoist: boolean;
  mentionable: boolean;
  /** Integration roles (the bot's own role): discord.js treats them as not editable. */
  managedBy: string | null;
}

export interface StoredUser {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
}

export interface StoredMember {
  userId: string;
  roles: string[];
  joinedAt: string;
  nick: string | null;
}

export interface StoredChannel {
  id: string;
  name: string;
  type: ChannelType.GuildText | ChannelType.DM;
  /** For DM channels: the other user. */
  recipientId: string | null;
  /** Bot-side access problem for this channel: 50001 Missing Access or 50013 Missing Permissions. */
  restriction: 50001 | 50013 | null;
  lastMessageId: string | null;
  position: number;
}

export const GUILD_LOCALE = Locale.EnglishUS;

export function apiUser(u: StoredUser): APIUser {
  return {
    id: u.id,
    username: u.username,
    discriminator: '0',
    global_name: u.globalName,
    avatar: null,
    ...(u.bot ? { bot: true } : {}),
    public_flags: 0 as UserFlags,
    flags: 0 as UserFlags,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
    collectibles: null,
    primary_guild: null,
  };
}

export function apiRole(r: StoredRole): APIRole {
  return {
    id: r.id,
    name: r.name,
    color: r.color,
    colors: { primary_color: r.color, secondary_color: null, tertiary_color: null },
    hoist: r.hoist,
    icon: null,
    unicode_emoji: null,
    position: r.position,
    permissions: r.permissions.toString(),
    managed: r.managedBy !== null,
    mentionable: r.mentionable,
    ...(r.managedBy !== null ? { tags: { bot_id: r.managedBy } } : {}),
    flags: 0 as RoleFlags,
  };
}

export function apiMember(m: StoredMember, user: StoredUser): APIGuildMember {
  return {
    user: apiUser(user),
    nick: m.nick,
    avatar: null,
    banner: null,
    roles: [...m.roles],
    joined_at: m.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

export function apiTextChannel(c: StoredChannel, guildId: string): APITextChannel {
  return {
    id: c.id,
    type: ChannelType.GuildText,
    guild_id: guildId,
    name: c.name,
    position: c.position,
    permission_overwrites: [],
    nsfw: false,
    topic: null,
    last_message_id: c.lastMessageId,
    rate_limit_per_user: 0,
    parent_id: null,
    flags: 0 as ChannelFlags,
  };
}

export function apiDmChannel(c: StoredChannel, recipient: StoredUser): APIDMChannel {
  return { id: c.id, type: ChannelType.DM, name: null, last_message_id: c.lastMessageId, recipients: [apiUser(recipient)], flags: 0 as ChannelFlags };
}

export interface GuildFacts {
  id: string;
  name: string;
  ownerId: string;
  applicationId: string;
  systemChannelId: string | null;
  roles: readonly StoredRole[];
  memberCount: number;
}

export function apiGuild(g: GuildFacts): APIGuild {
  return {
    id: g.id,
    name: g.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: g.ownerId,
    region: 'deprecated',
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: GuildVerificationLevel.Low,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.AllMembers,
    roles: [...g.roles].sort((a, b) => a.position - b.position).map(apiRole),
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: g.systemChannelId,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotificationReplies,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500_000,
    vanity_url_code: null,
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: GUILD_LOCALE,
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: GuildNSFWLevel.Default,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
  };
}
