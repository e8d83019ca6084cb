import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, Options, Partials, type CacheFactory, type Guild } from 'discord.js';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HttpCallObserver } from '../metrics/http-call.ts';
import { timedRequests } from './rest-timing.ts';

/**
 * The discord.js gateway client, in the same process as Fastify. Intents:
 * Guilds and the privileged Guild Members (rejoins and manual role edits);
 * `Partials.GuildMember` because GUILD_CREATE carries almost no members, and
 * without it an update of an uncached member fires `guildMemberAvailable`
 * instead of `guildMemberUpdate` (measured against the stand-in).
 */

export type GatewayState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface DiscordClient {
  readonly client: Client;
  readonly guildId: string;
  /** Logs in and resolves once the client is ready (guilds received). */
  start(): Promise<void>;
  state(): GatewayState;
  /** The configured guild from the cache (after start), or null when the bot is not in it. */
  guild(): Guild | null;
  /** The bot's user id (after start). */
  botUserId(): string | null;
  /**
   * Calls listener at each new gateway session after the first: a READY
   * after the one start() waited for means the old session was invalidated
   * (not resumed), so events may have been lost.
   */
  onNewSession(listener: () => void): void;
  close(): Promise<void>;
}

export const INTENTS_FIX =
  'enable "Server Members Intent" under Bot → Privileged Gateway Intents in the Discord developer portal';

/** discord.js rejects login with a plain Error('Used disallowed intents') when the gateway closes with 4014. */
function isDisallowedIntents(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return code === 4014 || code === 'DisallowedIntents' || /disallowed intents/i.test(err.message);
}

/**
 * Members and users kept in discord.js's caches besides the bot itself: the
 * ones seen most recently (an update event's "before" roles come from here;
 * for a member not cached, the manual-edit check judges the roles after the
 * change alone). Enough for a burst of role edits, and small whatever the
 * guild's size: with every member cached, a resync of 100,000 took the
 * service's RSS to 300 MB and more (bench:memory).
 */
export const MEMBER_CACHE_SIZE = 1_000;

/** True for the bot's own member or user: discord.js reads it for every permission and role-position check. */
const isSelf = (x: { id: string; client: Client }) => x.id === x.client.user?.id;

/**
 * discord.js keeps everything it sees for the life of the process unless
 * told otherwise. Concierge reads from its caches only the guild, its roles
 * and channels (start-up check, audit channel, role positions) and the bot's
 * own member: those stay whole (discord.js cannot limit them, and they are
 * small). Members and users are limited to MEMBER_CACHE_SIZE, and a bulk
 * resync sweeps what its member fetch left (guild-members.ts). What
 * Concierge never reads is not cached at all; DM channels are opened
 * uncached (messenger.ts), as the channel cache cannot be limited.
 */
function makeCache(): CacheFactory {
  return Options.cacheWithLimits({
    GuildMemberManager: { maxSize: MEMBER_CACHE_SIZE, keepOverLimit: isSelf },
    UserManager: { maxSize: MEMBER_CACHE_SIZE, keepOverLimit: isSelf },
    MessageManager: 0,
    DMMessageManager: 0,
    GuildMessageManager: 0,
    PresenceManager: 0,
    ReactionManager: 0,
    ReactionUserManager: 0,
    ThreadManager: 0,
    ThreadMemberManager: 0,
    GuildForumThreadManager: 0,
    GuildTextThreadManager: 0,
    VoiceStateManager: 0,
    GuildEmojiManager: 0,
    BaseGuildEmojiManager: 0,
    ApplicationEmojiManager: 0,
    GuildStickerManager: 0,
    GuildInviteManager: 0,
    GuildBanManager: 0,
    GuildScheduledEventManager: 0,
    StageInstanceManager: 0,
    AutoModerationRuleManager: 0,
    EntitlementManager: 0,
    ApplicationCommandManager: 0,
  });
}

/** Every hour the member and user caches are emptied but for the bot: a quiet server's memory goes back down. */
export const SWEEP_INTERVAL_S = 3_600;
const SWEEPERS = {
  ...Options.DefaultSweeperSettings,
  guildMembers: { interval: SWEEP_INTERVAL_S, filter: () => (m: { id: string; client: Client }) => !isSelf(m) },
  users: { interval: SWEEP_INTERVAL_S, filter: () => (u: { id: string; client: Client }) => !isSelf(u) },
};

export function createDiscordClient(o: { token: string; apiUrl: string; guildId: string; log: Logger; onRestCall?: HttpCallObserver }): DiscordClient {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers],
    partials: [Partials.GuildMember],
    makeCache: makeCache(),
    sweepers: SWEEPERS,
    // Waits of more than 5 s go back to the job queue (retry-after without using an attempt) instead of holding a worker.
    rest: { api: o.apiUrl, timeout: 10_000, rejectOnRateLimit: (limit) => limit.retryAfter > 5_000, makeRequest: timedRequests(o.onRestCall) },
  });
  let state: GatewayState = 'closed';
  const log = o.log;

  const sessionListeners: (() => void)[] = [];
  let sessions = 0;
  client.on(Events.ShardReady, () => {
    state = 'ready';
    sessions += 1;
    if (sessions > 1) for (const listener of sessionListeners) listener();
  });
  client.on(Events.ShardResume, (_id, replayed) => {
    state = 'ready';
    log.info({ replayed }, 'gateway resumed');
  });
  client.on(Events.ShardReconnecting, () => {
    state = 'reconnecting';
    log.warn('gateway reconnecting');
  });
  client.on(Events.ShardDisconnect, (event) => {
    if (state !== 'closed') log.warn({ code: event.code }, 'gateway disconnected');
    state = state === 'closed' ? 'closed' : 'reconnecting';
  });
  client.on(Events.ShardError, (err) => log.warn({ err }, 'gateway error'));
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  client.on(Events.Warn, (message) => log.warn(message));

  return {
    client,
    guildId: o.guildId,
    async start() {
      state = 'connecting';
      const ready = once(client, Events.ClientReady);
      try {
        await client.login(o.token);
        await ready;
      } catch (err) {
        state = 'closed';
        await client.destroy().catch(() => undefined);
        if (isDisallowedIntents(err)) {
          throw new ConciergeError('discord_intents', `Discord refused the Server Members intent: ${INTENTS_FIX}`, { retry: false, cause: err });
        }
        throw new ConciergeError('discord_login', `Discord login failed: ${err instanceof Error ? err.message : String(err)}`, { retry: false, cause: err });
      }
      state = 'ready';
      log.info({ user: client.user?.tag, guildId: o.guildId, inGuild: client.guilds.cache.has(o.guildId) }, 'logged in to Discord');
    },
    state: () => state,
    guild: () => client.guilds.cache.get(o.guildId) ?? null,
    botUserId: () => client.user?.id ?? null,
    onNewSession: (listener) => void sessionListeners.push(listener),
    async close() {
      state = 'closed';
      await client.destroy();
    },
  };
}
