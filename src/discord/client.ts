import { once } from 'node:events';
import { Client, Events, GatewayIntentBits, Partials, type Guild } from 'discord.js';
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

export function createDiscordClient(o: { token: string; apiUrl: string; guildId: string; log: Logger; onRestCall?: HttpCallObserver }): DiscordClient {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers],
    partials: [Partials.GuildMember],
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
