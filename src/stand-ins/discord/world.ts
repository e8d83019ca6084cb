import { GatewayIntentBits } from 'discord-api-types/v10';
import { apiGuild, apiMember, apiUser } from './shapes.ts';
import { applicationFlags } from './routes-app.ts';
import type { GuildState } from './state.ts';
import type { ChannelStore } from './channels.ts';
import type { GatewayWorld } from './gateway.ts';

/**
 * What the gateway tells a client about the world: READY, GUILD_CREATE and
 * member chunks, built from the current state.
 *
 * GUILD_CREATE lists every member only for a session with the (privileged)
 * presences intent and a guild no larger than its large_threshold; otherwise
 * just the bot, as Discord does. Concierge (Guilds + GuildMembers) therefore
 * starts with an almost empty member cache, like in production.
 */
export function createWorld(o: {
  guild: GuildState;
  channels: ChannelStore;
  token: string;
  resumeUrl: string;
  heartbeatIntervalMs: number;
  privilegedIntentsEnabled: () => boolean;
}): GatewayWorld {
  const { guild, channels } = o;
  const memberJson = (id: string) => apiMember(guild.member(id), guild.user(id));

  return {
    token: o.token,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    resumeUrl: o.resumeUrl,
    privilegedIntentsEnabled: o.privilegedIntentsEnabled,

    ready: (sessionId, shard) => ({
      v: 10,
      user: { ...apiUser(guild.user(guild.botUserId)), verified: true, mfa_enabled: false, email: null },
      guilds: [{ id: guild.guildId, unavailable: true }],
      session_id: sessionId,
      session_type: 'normal',
      resume_gateway_url: o.resumeUrl,
      shard,
      application: { id: guild.applicationId, flags: applicationFlags(o.privilegedIntentsEnabled()) },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      user_settings: {},
      geo_ordered_rtc_regions: ['stand-in'],
      _trace: ['["discord-stand-in",{"micros":0}]'],
    }),

    guildCreate(intents, largeThreshold) {
      const members = guild.members();
      const large = members.length > largeThreshold;
      const everyone = (intents & GatewayIntentBits.GuildPresences) !== 0 && !large;
      const listed = everyone ? members : members.filter((m) => m.userId === guild.botUserId);
      const botMember = guild.member(guild.botUserId);
      return {
        ...apiGuild({ id: guild.guildId, name: guild.name, ownerId: guild.ownerId, applicationId: guild.applicationId, systemChannelId: null, roles: guild.roles(), memberCount: members.length }),
        joined_at: botMember.joinedAt,
        large,
        unavailable: false,
        member_count: members.length,
        members: listed.map((m) => memberJson(m.userId)),
        channels: channels.textChannels().map(channels.payload),
        threads: [],
        presences: [],
        voice_states: [],
        stage_instances: [],
        guild_scheduled_events: [],
        soundboard_sounds: [],
        embedded_activities: [],
        lazy: true,
        application_command_counts: {},
      };
    },

    requestMembers(d) {
      if (d.guild_id !== guild.guildId) return { members: [], notFound: [] };
      if (d.user_ids !== undefined) {
        const ids = Array.isArray(d.user_ids) ? d.user_ids : [d.user_ids];
        const found = ids.filter((id) => guild.findMember(id));
        return { members: found.map(memberJson), notFound: ids.filter((id) => !guild.findMember(id)) };
      }
      const q = (d.query ?? '').toLowerCase();
      const limit = d.limit && d.limit > 0 ? d.limit : q === '' ? Number.POSITIVE_INFINITY : 100;
      const matching = guild.members().filter((m) => guild.user(m.userId).username.toLowerCase().startsWith(q));
      return { members: matching.slice(0, limit).map((m) => memberJson(m.userId)), notFound: [] };
    },
  };
}
