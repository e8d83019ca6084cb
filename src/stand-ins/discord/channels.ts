import { EventEmitter } from 'node:events';
import { ChannelType, GatewayDispatchEvents, GatewayIntentBits, MessageFlags, MessageType, type APIAttachment, type APIMessage, type APIMessageInteractionMetadata } from 'discord-api-types/v10';
import { snowflake } from './ids.ts';
import { ApiFailure, cannotDm, unknown } from './errors.ts';
import { apiDmChannel, apiTextChannel, apiUser, type StoredChannel, type StoredUser } from './shapes.ts';
import type { DispatchEvent, GuildState } from './state.ts';
import type { MessageBody } from './validate-message.ts';

/**
 * Text channels, DM channels and the messages in them. Ephemeral interaction
 * messages are kept by the interaction, not in a channel (nobody else sees them).
 */

export interface UploadedFile {
  /** The multipart field, `files[0]`… */
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MessageOrigin {
  author: StoredUser;
  /** Set for interaction responses and follow-ups (they come from the app's webhook). */
  webhookId?: string;
  applicationId?: string;
  interaction?: APIMessageInteractionMetadata;
  type?: MessageType;
}

export type ChannelStore = ReturnType<typeof createChannels>;

export function createChannels(o: { guild: GuildState; baseUrl: string; textChannels: readonly string[]; emit: (e: DispatchEvent) => void }) {
  const { guild } = o;
  const channels = new Map<string, StoredChannel>();
  const messages = new Map<string, APIMessage[]>();
  const dmByUser = new Map<string, string>();
  const closedDms = new Set<string>();
  const files = new Map<string, { data: Buffer; contentType: string }>();
  const events = new EventEmitter();
  events.setMaxListeners(0);

  function insert(name: string, type: StoredChannel['type'], recipientId: string | null): StoredChannel {
    const c: StoredChannel = { id: snowflake(), name, type, recipientId, restriction: null, lastMessageId: null, position: channels.size };
    channels.set(c.id, c);
    messages.set(c.id, []);
    return c;
  }
  for (const name of o.textChannels) insert(name, ChannelType.GuildText, null);

  function channel(id: string): StoredChannel {
    const c = channels.get(id);
    if (!c) throw unknown('channel');
    return c;
  }

  function payload(c: StoredChannel) {
    return c.type === ChannelType.DM ? apiDmChannel(c, guild.user(c.recipientId ?? '')) : apiTextChannel(c, guild.guildId);
  }

  function attachmentsFor(channelId: string, body: MessageBody, uploads: readonly UploadedFile[]): APIAttachment[] {
    return uploads.map((f, i) => {
      const id = snowflake();
      const meta = body.attachments?.find((a) => String(a.id) === String(i));
      const url = `${o.baseUrl}/attachments/${channelId}/${id}/${encodeURIComponent(f.filename)}`;
      files.set(new URL(url).pathname, { data: f.data, contentType: f.contentType });
      return { id, filename: meta?.filename ?? f.filename, size: f.data.length, url, proxy_url: url, content_type: f.contentType, ...(meta?.description ? { description: meta.description } : {}) };
    });
  }

  function mentions(content: string) {
    const userIds = [...content.matchAll(/<@!?(\d{17,20})>/g)].map((m) => m[1] ?? '');
    const roleIds = [...content.matchAll(/<@&(\d{17,20})>/g)].map((m) => m[1] ?? '');
    return {
      mentions: [...new Set(userIds)].flatMap((id) => {
        const u = guild.knownUser(id);
        return u ? [apiUser(u)] : [];
      }),
      mention_roles: [...new Set(roleIds)].filter((id) => guild.role(id)),
    };
  }

  /** The bot may post here? Throws Discord's 403 otherwise. */
  function assertCanPost(c: StoredChannel): void {
    if (c.restriction !== null) throw new ApiFailure(403, c.restriction, c.restriction === 50001 ? 'Missing Access' : 'Missing Permissions');
    // Discord refuses a DM when the user closed DMs from server members or no longer shares a guild with the bot.
    if (c.type === ChannelType.DM && (closedDms.has(c.recipientId ?? '') || !guild.findMember(c.recipientId ?? ''))) throw cannotDm();
  }

  function announce(c: StoredChannel, m: APIMessage): void {
    if (c.type === ChannelType.DM) {
      o.emit({ t: GatewayDispatchEvents.MessageCreate, d: m, intent: GatewayIntentBits.DirectMessages });
    } else {
      o.emit({ t: GatewayDispatchEvents.MessageCreate, d: { ...m, guild_id: guild.guildId }, intent: GatewayIntentBits.GuildMessages });
    }
    events.emit('message', c.id, m);
  }

  function build(channelId: string, body: MessageBody, uploads: readonly UploadedFile[], origin: MessageOrigin): APIMessage {
    const content = body.content ?? '';
    return {
      id: snowflake(),
      channel_id: channelId,
      author: apiUser(origin.author),
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: body.tts ?? false,
      mention_everyone: false,
      ...mentions(content),
      attachments: attachmentsFor(channelId, body, uploads),
      embeds: body.embeds ?? [],
      pinned: false,
      type: origin.type ?? MessageType.Default,
      flags: body.flags ?? 0,
      components: (body.components ?? []) as APIMessage['components'] & object,
      ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...(origin.webhookId ? { webhook_id: origin.webhookId } : {}),
      ...(origin.applicationId ? { application_id: origin.applicationId } : {}),
      ...(origin.interaction ? { interaction_metadata: origin.interaction } : {}),
    };
  }

  return {
    channel,
    payload,
    textChannels: (): StoredChannel[] => [...channels.values()].filter((c) => c.type === ChannelType.GuildText),
    byName: (name: string): StoredChannel | undefined => [...channels.values()].find((c) => c.type === ChannelType.GuildText && c.name === name),

    addTextChannel(name: string): StoredChannel {
      const c = insert(name, ChannelType.GuildText, null);
      o.emit({ t: GatewayDispatchEvents.ChannelCreate, d: apiTextChannel(c, guild.guildId), intent: GatewayIntentBits.Guilds });
      return c;
    },

    /** The DM channel with a user (one per user, as on Discord). */
    openDm(userId: string): StoredChannel {
      const existing = dmByUser.get(userId);
      if (existing) return channel(existing);
      const c = insert(`dm-${userId}`, ChannelType.DM, userId);
      dmByUser.set(userId, c.id);
      return c;
    },
    dmOf: (userId: string): StoredChannel | undefined => {
      const id = dmByUser.get(userId);
      return id ? channels.get(id) : undefined;
    },
    closeDms: (userId: string): void => void closedDms.add(userId),
    openDms: (userId: string): void => void closedDms.delete(userId),
    assertCanPost,

    /** The author's message in the channel with this nonce, created within the window (Discord's enforce_nonce). */
    findByNonce(channelId: string, authorId: string, nonce: string, windowMs: number): APIMessage | undefined {
      const since = Date.now() - windowMs;
      return messages.get(channelId)?.find((m) => m.nonce !== undefined && String(m.nonce) === nonce && m.author.id === authorId && Date.parse(m.timestamp) >= since);
    },

    /** A new message: stored and dispatched, or (ephemeral) only returned. */
    create(channelId: string, body: MessageBody, uploads: readonly UploadedFile[], origin: MessageOrigin): APIMessage {
      const c = channel(channelId);
      const m = build(channelId, body, uploads, origin);
      if (((m.flags ?? 0) & MessageFlags.Ephemeral) !== 0) return m;
      messages.get(channelId)?.push(m);
      c.lastMessageId = m.id;
      announce(c, m);
      return m;
    },

    /** Apply an edit in place (content, embeds, components, flags, new files). */
    edit(m: APIMessage, body: MessageBody, uploads: readonly UploadedFile[]): APIMessage {
      if (body.content !== undefined) Object.assign(m, { content: body.content ?? '' }, mentions(body.content ?? ''));
      if (body.embeds !== undefined) m.embeds = body.embeds ?? [];
      if (body.components !== undefined) m.components = (body.components ?? []) as NonNullable<APIMessage['components']>;
      if (body.flags !== undefined) m.flags = ((m.flags ?? 0) & MessageFlags.Ephemeral) | (body.flags ?? 0);
      m.flags = (m.flags ?? 0) & ~MessageFlags.Loading;
      if (body.attachments !== undefined || uploads.length) {
        const kept = m.attachments.filter((a) => body.attachments?.some((k) => String(k.id) === a.id));
        m.attachments = [...kept, ...attachmentsFor(m.channel_id, body, uploads)];
      }
      m.edited_timestamp = new Date().toISOString();
      const c = channels.get(m.channel_id);
      if (c && c.type === ChannelType.GuildText && ((m.flags ?? 0) & MessageFlags.Ephemeral) === 0) {
        o.emit({ t: GatewayDispatchEvents.MessageUpdate, d: { ...m, guild_id: guild.guildId }, intent: GatewayIntentBits.GuildMessages });
      }
      events.emit('edit', m.channel_id, m);
      return m;
    },

    remove(channelId: string, messageId: string): void {
      const list = messages.get(channelId) ?? [];
      const i = list.findIndex((m) => m.id === messageId);
      if (i < 0) throw unknown('message');
      list.splice(i, 1);
    },

    messages: (channelId: string): APIMessage[] => messages.get(channelId) ?? [],
    message(channelId: string, messageId: string): APIMessage {
      const m = (messages.get(channelId) ?? []).find((x) => x.id === messageId);
      if (!m) throw unknown('message');
      return m;
    },
    findMessage(messageId: string): APIMessage | undefined {
      for (const list of messages.values()) {
        const m = list.find((x) => x.id === messageId);
        if (m) return m;
      }
      return undefined;
    },
    file: (path: string) => files.get(path),
    events,

    /** Forget every message, file and closed-DM flag; channels stay. */
    clear(): void {
      for (const list of messages.values()) list.length = 0;
      for (const c of channels.values()) {
        c.lastMessageId = null;
        c.restriction = null;
      }
      files.clear();
      closedDms.clear();
    },
  };
}
