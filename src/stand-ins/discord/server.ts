import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { APIApplicationCommand, APIMessage } from 'discord-api-types/v10';
import { botToken, snowflake } from './ids.ts';
import { createGuildState, type MemberSpec, type RoleSpec } from './state.ts';
import { createChannels } from './channels.ts';
import { createCommandRegistry } from './commands.ts';
import { createRateLimits } from './rate-limit.ts';
import { createDelays } from '../faults.ts';
import { createFaults, type FaultHandle, type FaultSpec } from './faults.ts';
import { createGateway, type Gateway, type GatewayLogEntry } from './gateway.ts';
import { createWorld } from './world.ts';
import { createPayloadBuilder, type InteractionSpec } from './interaction-payloads.ts';
import { createInteractions, type InteractionHandle } from './interactions.ts';
import { createPipeline, defaultBucketFor, type RecordedRequest } from './pipeline.ts';
import { guildRoutes } from './routes-guild.ts';
import { channelRoutes } from './routes-channels.ts';
import { appRoutes } from './routes-app.ts';

/**
 * A Discord stand-in on loopback: REST under /api/v10 and the gateway on
 * one port. The real discord.js client logs in to it unchanged
 * (`rest: { api: standIn.apiUrl }`); see src/stand-ins/discord/README.md.
 */

export type { RoleSpec, MemberSpec, FaultSpec, FaultHandle, InteractionSpec, InteractionHandle, RecordedRequest, GatewayLogEntry };
export type { CallbackRecord, EditRecord } from './interactions.ts';
export { snowflake };

export interface DiscordStandInOptions {
  guildName?: string;
  /** Tier and staff roles; members may name them in `roles`. */
  roles?: readonly RoleSpec[];
  members?: readonly (MemberSpec & { id: string })[];
  /** Position of the bot's "Concierge" role; default just above the highest configured role. */
  botRolePosition?: number;
  /** Permissions of the bot's role; default MANAGE_ROLES, VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES, READ_MESSAGE_HISTORY, VIEW_AUDIT_LOG. */
  botPermissions?: bigint | number | string;
  /** Extra text channels besides `general` and the audit channel. */
  channels?: readonly string[];
  auditChannelName?: string;
  /** The portal switches for Server Members / Presence / Message Content; false → IDENTIFY asking for them is closed with 4014. Default true. */
  privilegedIntentsEnabled?: boolean;
  /** Member-role bucket (PUT/DELETE role, PATCH member) per guild: default 10 per 2000 ms. */
  roleLimit?: number;
  roleWindowMs?: number;
  /** POST /channels/{c}/messages per channel: default 5 per 5000 ms, as Discord. */
  messageLimit?: number;
  messageWindowMs?: number;
  /** Requests per second per bot token; default 50. */
  globalLimit?: number;
  /** Every other route: requests per second per route and major parameter; default 50. */
  routeLimit?: number;
  /** Time to the first interaction callback; default 3000 ms. */
  interactionDeadlineMs?: number;
  /** HELLO's heartbeat_interval; default 41250 ms as Discord. */
  heartbeatIntervalMs?: number;
}

export type DiscordStandIn = Awaited<ReturnType<typeof createDiscordStandIn>>;

export async function createDiscordStandIn(opts: DiscordStandInOptions = {}) {
  let privileged = opts.privilegedIntentsEnabled ?? true;
  const delays = createDelays();
  const answered = new EventEmitter();
  answered.setMaxListeners(0);
  let gateway: Gateway | null = null;
  const emit: Parameters<typeof createGuildState>[0]['emit'] = (e) => gateway?.dispatch(e);

  const server = createServer({ keepAlive: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const gatewayUrl = `ws://127.0.0.1:${port}/gateway`;

  const guild = createGuildState({ guildName: opts.guildName ?? 'Concierge Test Guild', roles: opts.roles ?? [], botRolePosition: opts.botRolePosition, botPermissions: opts.botPermissions, emit });
  const auditName = opts.auditChannelName ?? 'concierge-audit';
  const channels = createChannels({ guild, baseUrl: url, textChannels: ['general', auditName, ...(opts.channels ?? [])], emit });
  for (const m of opts.members ?? []) guild.addMember(m.id, m);
  const token = botToken(guild.botUserId);
  const guildCommands = createCommandRegistry(guild.applicationId, guild.guildId);
  const globalCommands = createCommandRegistry(guild.applicationId, null);
  const limits = createRateLimits({ globalLimit: opts.globalLimit ?? 50 });
  const faults = createFaults();
  gateway = createGateway(
    createWorld({ guild, channels, token, resumeUrl: `${gatewayUrl}/resume`, heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250, privilegedIntentsEnabled: () => privileged }),
  );
  const gw = gateway;
  const builder = createPayloadBuilder({
    guild,
    channels,
    findCommand: (name) => guildCommands.byName(name) ?? globalCommands.byName(name),
    ephemeralFor: (userId) => interactions.ephemeralFor(userId),
  });
  const interactions = createInteractions({ guild, channels, builder, dispatch: emit, connected: () => gw.connected() > 0, deadlineMs: opts.interactionDeadlineMs ?? 3_000 });

  const routes = [
    ...guildRoutes({
      guild,
      channels,
      privilegedIntentsEnabled: () => privileged,
      memberRoleBucket: (g) => ({ key: `member-roles:${g}`, limit: opts.roleLimit ?? 10, windowMs: opts.roleWindowMs ?? 2_000 }),
    }),
    ...channelRoutes({ guild, channels, messageBucket: (c) => ({ key: `channel-messages:${c}`, limit: opts.messageLimit ?? 5, windowMs: opts.messageWindowMs ?? 5_000 }) }),
    ...appRoutes({ guild, gatewayUrl, guildCommands, globalCommands, interactions, privilegedIntentsEnabled: () => privileged }),
  ];
  const pipeline = createPipeline({ token, routes, limits, faults, channels, defaultBucket: defaultBucketFor(opts.routeLimit ?? 50, 1_000), sleep: delays.sleep, onAnswered: (r) => answered.emit('request', r) });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    pipeline.handle(req, res).catch((err: unknown) => {
      // A bug in the stand-in must fail the test loudly, not hang it.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `stand-in bug: ${String(err)}`, code: 0 }));
    });
  });
  server.on('upgrade', (req, socket, head: Buffer) => gw.handleUpgrade(req, socket, head));

  async function waitFor<T>(source: EventEmitter, event: string, check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Discord stand-in: timed out after ${timeoutMs} ms waiting for ${what}`);
      await once(source, event, { signal: AbortSignal.timeout(left) }).catch(() => undefined);
    }
  }
  const callsTo = (method: string, path: RegExp): number => pipeline.requests.filter((r) => r.method === method && path.test(r.path)).length;

  return {
    url,
    apiUrl: `${url}/api`,
    gatewayUrl,
    token,
    applicationId: guild.applicationId,
    botUserId: guild.botUserId,
    guildId: guild.guildId,
    ownerId: guild.ownerId,
    botRoleId: guild.botRoleId,
    generalChannelId: channels.byName('general')?.id ?? '',
    auditChannelId: channels.byName(auditName)?.id ?? '',

    // Guild
    addRole: (spec: RoleSpec): string => guild.addRole(spec).id,
    /** The id of the role with this name. */
    roleId: (name: string): string => guild.resolveRole(name),
    roles: () => guild.roles().map((r) => ({ id: r.id, name: r.name, position: r.position, permissions: r.permissions.toString() })),
    updateRole: (id: string, patch: { position?: number; permissions?: bigint | number | string; name?: string }): void => void guild.updateRole(id, patch),
    setBotRolePosition: (position: number): void => void guild.updateRole(guild.botRoleId, { position }),
    setBotPermissions: (bits: bigint | number | string): void => void guild.updateRole(guild.botRoleId, { permissions: bits }),
    setPrivilegedIntents: (enabled: boolean): void => void (privileged = enabled),
    addMember: (userId: string, spec: MemberSpec = {}): string => guild.addMember(userId, spec).userId,
    removeMember: (userId: string): void => guild.removeMember(userId),
    /** A moderator edits roles in the client: no permission checks, an audit-log entry by `by` (default the owner). */
    setMemberRoles: (userId: string, roles: readonly string[], o: { by?: string; reason?: string } = {}): void =>
      void guild.setRoles(userId, roles.map(guild.resolveRole), { actorId: o.by ?? guild.ownerId, reason: o.reason ?? null, check: false }),
    /** The member's role ids now, or undefined when not a member. */
    member: (userId: string): string[] | undefined => {
      const m = guild.findMember(userId);
      return m ? [...m.roles] : undefined;
    },
    memberIds: (): string[] => guild.members().map((m) => m.userId),
    auditLog: () => [...guild.auditLog()],

    // Channels and DMs
    addChannel: (name: string): string => channels.addTextChannel(name).id,
    restrictChannel: (channelId: string, code: 50001 | 50013 | null): void => void (channels.channel(channelId).restriction = code),
    closeDms: (userId: string): void => channels.closeDms(userId),
    openDms: (userId: string): void => channels.openDms(userId),
    messages: (channelId: string): APIMessage[] => [...channels.messages(channelId)],
    /** The id of the DM channel with this user, once the bot has opened one. */
    dmChannelId: (userId: string): string | undefined => channels.dmOf(userId)?.id,
    dms: (userId: string): APIMessage[] => {
      const c = channels.dmOf(userId);
      return c ? [...channels.messages(c.id)] : [];
    },
    waitForMessage: (channelId: string, match: (m: APIMessage) => boolean = () => true, timeoutMs = 5_000): Promise<APIMessage> =>
      waitFor(channels.events, 'message', () => channels.messages(channelId).find(match), timeoutMs, `a message in ${channelId}`),
    waitForDm: (userId: string, match: (m: APIMessage) => boolean = () => true, timeoutMs = 5_000): Promise<APIMessage> =>
      waitFor(channels.events, 'message', () => {
        const c = channels.dmOf(userId);
        return c ? channels.messages(c.id).find(match) : undefined;
      }, timeoutMs, `a DM to ${userId}`),
    /** Bytes of an attachment the bot uploaded (by its URL). */
    attachment: (attachmentUrl: string): Buffer | undefined => channels.file(new URL(attachmentUrl).pathname)?.data,

    // Commands and interactions
    commands: (): APIApplicationCommand[] => [...guildCommands.list()],
    globalCommands: (): APIApplicationCommand[] => [...globalCommands.list()],
    interact: (spec: InteractionSpec): InteractionHandle => interactions.interact(spec),

    // Requests, rate limits, faults
    requests: pipeline.requests as readonly RecordedRequest[],
    callsTo,
    waitForCalls: (method: string, path: RegExp, count = 1, timeoutMs = 5_000): Promise<number> =>
      waitFor(answered, 'request', () => {
        const n = pipeline.requests.filter((r) => r.method === method && path.test(r.path) && r.status !== 0).length;
        return n >= count ? n : undefined;
      }, timeoutMs, `${count} answered ${method} ${String(path)}`),
    /** 429s sent by the rate limits themselves (injected 429s are not counted). */
    rateLimitHits: (): { bucket: number; global: number } => limits.hits(),
    /** 401/403/429 answers: Discord bans an IP after 10,000 in 10 minutes. */
    invalidRequests: (): number => pipeline.invalidRequests(),
    fault: (spec: FaultSpec): FaultHandle => faults.add(spec),
    clearFaults: (): void => faults.clear(),
    clearRequests: (): void => pipeline.clear(),

    // Gateway
    /** Close every gateway socket with `code` (1006: drop without a close frame). Sessions stay resumable unless `resumable: false`. */
    closeGateway: (code = 4000, o: { resumable?: boolean } = {}): void => gw.close(code, o),
    requestReconnect: (): void => gw.requestReconnect(),
    invalidateSessions: (): void => gw.invalidateSessions(),
    connectedSessions: (): number => gw.connected(),
    gatewayLog: gw.log,

    /** Log, faults, rate-limit windows, messages, DMs, interactions. Guild, members, commands and sessions stay (a connected client's cache stays true). */
    reset(): void {
      pipeline.clear();
      faults.clear();
      limits.reset();
      channels.clear();
      interactions.clear();
    },
    async close(): Promise<void> {
      delays.clear();
      await gw.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
