import { randomBytes } from 'node:crypto';
import { Events, GatewayDispatchEvents, GatewayOpcodes, type Client, type Guild, type GuildMember, type GuildMembersChunk, type ReadonlyCollection } from 'discord.js';
import type { DiscordClient } from './client.ts';
import { translateDiscordError } from './errors.ts';
import { ConciergeError } from '../errors.ts';

/** The guild's member list (implements app/'s RoleHolders, app/resync.ts, and GuildRoleReader, app/reconcile-discord.ts). */
export interface GuildMembers {
  readManagedRoles(managedRoleIds: ReadonlySet<string>, candidates: ReadonlySet<string>): Promise<ReadonlyMap<string, readonly string[]>>;
  streamManagedRoles(managedRoleIds: ReadonlySet<string>, candidates: ReadonlySet<string>, onChunk: (members: ReadonlyMap<string, readonly string[]>) => void): Promise<void>;
}

export function createGuildMembers(discord: DiscordClient): GuildMembers {
  return {
    async readManagedRoles(managedRoleIds, candidates) {
      const out = new Map<string, readonly string[]>();
      await streamManagedRoles(discord, managedRoleIds, candidates, (members) => {
        for (const [id, held] of members) out.set(id, held);
      });
      return out;
    },
    streamManagedRoles: (managedRoleIds, candidates, onChunk) => streamManagedRoles(discord, managedRoleIds, candidates, onChunk),
  };
}

/** With no chunk for this long the request is given up (discord.js's own member fetch waits 120 s in all). */
const CHUNK_TIMEOUT_MS = 60_000;

/**
 * Members now in the guild who hold a managed role or are among
 * `candidates`, with the managed roles they hold (bots left out), from the
 * gateway (op 8 REQUEST_GUILD_MEMBERS, answered in chunks of 1,000), not
 * REST: no rate-limited calls, and the roles are current as of the request.
 * Each chunk goes to `onChunk` as it arrives (each member once); resolves
 * after the last.
 *
 * Read chunk by chunk rather than through `guild.members.fetch()`, which
 * gathers every GuildMember (and its User) into one collection before it
 * resolves and leaves them all cached: at 100,000 members that took the
 * service's RSS past 300 MB (bench:memory). Here a chunk's members are
 * garbage once read, and what the chunks put in the (limited) member and
 * user caches is swept at the end, so the fetch leaves nothing cached but
 * the bot. A caller that needs no whole list (the bulk resync) keeps nothing
 * either.
 */
async function streamManagedRoles(
  discord: DiscordClient,
  managedRoleIds: ReadonlySet<string>,
  candidates: ReadonlySet<string>,
  onChunk: (members: ReadonlyMap<string, readonly string[]>) => void,
): Promise<void> {
  const g = discord.guild();
  if (g === null) throw new ConciergeError('discord_no_guild', `the bot is not in guild ${discord.guildId} (or the gateway is not ready)`, { retry: true });
  // Members holding the same managed roles share one array (nearly all hold one tier's role, or none). Callers only read them.
  const shared = new Map<string, string[]>();
  let callerError: unknown = null;
  try {
    await streamMembers(g, (members) => {
      const out = new Map<string, readonly string[]>();
      for (const m of members.values()) {
        if (m.user.bot) continue;
        const held = [...m.roles.cache.keys()].filter((id) => managedRoleIds.has(id));
        if (held.length === 0 && !candidates.has(m.id)) continue;
        const key = held.join(',');
        let same = shared.get(key);
        if (same === undefined) shared.set(key, (same = held));
        out.set(m.id, same);
      }
      try {
        onChunk(out);
      } catch (err) {
        callerError = err;
        throw err;
      }
    });
  } catch (err) {
    // The caller's own failure (e.g. its store write) is not Discord's.
    if (err === callerError) throw err;
    throw translateDiscordError(err, 'fetch guild members (gateway op 8)', g, null);
  } finally {
    sweepMembers(g.client);
  }
}

/** Empties the member and user caches but for the bot's own (read for role positions and permissions). */
function sweepMembers(client: Client): void {
  const others = (x: { id: string }) => x.id !== client.user?.id;
  client.sweepers.sweepGuildMembers(others);
  client.sweepers.sweepUsers(others);
}

/** Requests the whole member list and hands each chunk to `onChunk` as it arrives; resolves after the last. */
function streamMembers(g: Guild, onChunk: (members: ReadonlyCollection<string, GuildMember>) => void): Promise<void> {
  const client = g.client;
  // Discord echoes the nonce (at most 32 characters) in every chunk of this request.
  const nonce = randomBytes(12).toString('hex');
  return new Promise<void>((resolve, reject) => {
    let received = 0;
    const finish = (err: Error | null) => {
      clearTimeout(timeout);
      client.off(Events.GuildMembersChunk, onMembers);
      client.off(Events.Raw, onRaw);
      if (err === null) resolve();
      else reject(err);
    };
    const timeout = setTimeout(() => finish(new Error(`no member chunk from the gateway for ${CHUNK_TIMEOUT_MS / 1000} s`)), CHUNK_TIMEOUT_MS);
    const onMembers = (members: ReadonlyCollection<string, GuildMember>, _guild: Guild, chunk: GuildMembersChunk) => {
      if (chunk.nonce !== nonce) return;
      timeout.refresh();
      received += 1;
      try {
        onChunk(members);
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (received >= chunk.count) finish(null);
    };
    // Discord answers a member request it rate-limits with a RATE_LIMITED dispatch naming the nonce.
    const onRaw = (packet: { t?: string | null; d?: { retry_after?: number; meta?: { nonce?: string } } }) => {
      if (packet.t === GatewayDispatchEvents.RateLimited && packet.d?.meta?.nonce === nonce) {
        const retryAfterMs = Math.ceil((packet.d.retry_after ?? 30) * 1000);
        finish(new ConciergeError('discord_rate_limited', `the gateway rate-limited the member request: retry in ${retryAfterMs} ms`, { retry: true, retryAfterMs }));
      }
    };
    client.on(Events.GuildMembersChunk, onMembers);
    client.on(Events.Raw, onRaw);
    g.shard.send({ op: GatewayOpcodes.RequestGuildMembers, d: { guild_id: g.id, query: '', limit: 0, nonce } });
  });
}
