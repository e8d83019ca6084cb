import { EventEmitter, once } from 'node:events';
import { GatewayDispatchEvents, InteractionResponseType, InteractionType, MessageFlags, MessageType, type APIMessage } from 'discord-api-types/v10';
import { interactionToken, snowflake } from './ids.ts';
import { alreadyAcknowledged, ApiFailure, invalidFormBody, unknown } from './errors.ts';
import { apiUser } from './shapes.ts';
import { validateMessage, type MessageBody } from './validate-message.ts';
import type { ChannelStore, MessageOrigin, UploadedFile } from './channels.ts';
import type { DispatchEvent, GuildState } from './state.ts';
import type { InteractionSpec, createPayloadBuilder } from './interaction-payloads.ts';
import type { Reply } from './http.ts';

/**
 * Interactions from the test's side: dispatch INTERACTION_CREATE, then hold
 * the bot to Discord's rules — one callback within the deadline (3 s:
 * later → 404 10062; twice → 400 40060), then the webhook (edit @original,
 * follow-ups) for 15 minutes. A handle lets the test await what the user saw.
 */

export interface CallbackRecord {
  type: InteractionResponseType;
  data: MessageBody | undefined;
  /** What the stand-in answered: 204/200, or 404 when late. */
  status: number;
  accepted: boolean;
  ephemeral: boolean;
  at: Date;
  /** From INTERACTION_CREATE to this callback. */
  elapsedMs: number;
}

export interface EditRecord {
  kind: 'edit' | 'followup' | 'delete';
  /** `@original` or a follow-up's id. */
  target: string;
  body: MessageBody | undefined;
  at: Date;
  /** The message after the change (null for delete). */
  message: APIMessage | null;
}

interface Rec {
  id: string;
  token: string;
  kind: InteractionType;
  createdAt: number;
  channelId: string;
  userId: string;
  payload: Record<string, unknown>;
  source: APIMessage | null;
  first: CallbackRecord | null;
  acknowledged: boolean;
  original: APIMessage | null;
  followUps: APIMessage[];
  edits: EditRecord[];
  events: EventEmitter;
}

export interface InteractionHandle {
  id: string;
  token: string;
  /** The INTERACTION_CREATE `d` that was dispatched. */
  payload: Record<string, unknown>;
  /** The first callback (accepted or refused as late); rejects after `timeoutMs` without one. */
  response(timeoutMs?: number): Promise<CallbackRecord>;
  /** Edits of @original, follow-ups and deletes, in order. */
  edits(): EditRecord[];
  /** Resolves once `count` edits/follow-ups have happened. */
  waitForEdits(count?: number, timeoutMs?: number): Promise<EditRecord[]>;
  /** @original as the user sees it now (undefined before a reply, or for a modal). */
  original(): APIMessage | undefined;
  followUps(): APIMessage[];
}

const TOKEN_TTL_MS = 15 * 60_000;

export function createInteractions(o: {
  guild: GuildState;
  channels: ChannelStore;
  builder: ReturnType<typeof createPayloadBuilder>;
  dispatch: (e: DispatchEvent) => void;
  connected: () => boolean;
  deadlineMs: number;
}) {
  const { guild, channels } = o;
  const byId = new Map<string, Rec>();
  const byToken = new Map<string, Rec>();

  async function waitFor<T>(rec: Rec, ready: () => T | undefined, event: string, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = ready();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Discord stand-in: no ${what} for interaction ${rec.id} within ${timeoutMs} ms`);
      await once(rec.events, event, { signal: AbortSignal.timeout(left) }).catch(() => undefined);
    }
  }

  function handle(rec: Rec): InteractionHandle {
    return {
      id: rec.id,
      token: rec.token,
      payload: rec.payload,
      response: (timeoutMs = 5_000) => waitFor(rec, () => rec.first ?? undefined, 'callback', timeoutMs, 'response'),
      edits: () => [...rec.edits],
      waitForEdits: (count = 1, timeoutMs = 5_000) => waitFor(rec, () => (rec.edits.length >= count ? [...rec.edits] : undefined), 'edit', timeoutMs, `${count} edit(s)`),
      original: () => rec.original ?? undefined,
      followUps: () => [...rec.followUps],
    };
  }

  function origin(rec: Rec, type: MessageType) {
    return {
      author: guild.user(guild.botUserId),
      webhookId: guild.applicationId,
      applicationId: guild.applicationId,
      type,
      interaction: { id: rec.id, type: rec.kind, user: apiUser(guild.user(rec.userId)), authorizing_integration_owners: rec.payload['authorizing_integration_owners'] } as MessageOrigin['interaction'],
    };
  }

  function recordEdit(rec: Rec, e: Omit<EditRecord, 'at'>): void {
    rec.edits.push({ ...e, at: new Date() });
    rec.events.emit('edit');
  }

  /** The interaction behind a webhook token, if the token is still valid. */
  function byWebhook(appId: string, token: string): Rec {
    const rec = byToken.get(token);
    if (!rec || appId !== guild.applicationId || Date.now() - rec.createdAt > TOKEN_TTL_MS || !rec.acknowledged) throw unknown('webhook');
    return rec;
  }

  function target(rec: Rec, messageId: string): APIMessage {
    const m = messageId === '@original' ? rec.original : rec.followUps.find((f) => f.id === messageId);
    if (!m) throw unknown('message');
    return m;
  }

  /** The callback's effect on the messages; throws Discord's 400 for a type or body it refuses. */
  function apply(rec: Rec, type: InteractionResponseType, data: MessageBody | undefined, ephemeral: boolean, files: readonly UploadedFile[]): void {
    const isComponent = rec.kind === InteractionType.MessageComponent;
    const allowed: number[] = [InteractionResponseType.ChannelMessageWithSource, InteractionResponseType.DeferredChannelMessageWithSource, InteractionResponseType.Modal];
    if (isComponent) allowed.push(InteractionResponseType.DeferredMessageUpdate, InteractionResponseType.UpdateMessage);
    if (!allowed.includes(type)) throw invalidFormBody([{ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid interaction response type for this interaction' }]);
    const msgType = isComponent ? MessageType.Default : MessageType.ChatInputCommand;
    if (type === InteractionResponseType.ChannelMessageWithSource) {
      // Interaction replies go through the app's webhook: no channel permission is needed.
      const body = validateMessage(data, { creating: true, files: files.length });
      rec.original = channels.create(rec.channelId, body, files, origin(rec, msgType));
    } else if (type === InteractionResponseType.DeferredChannelMessageWithSource) {
      const flags = MessageFlags.Loading | (ephemeral ? MessageFlags.Ephemeral : 0);
      rec.original = channels.create(rec.channelId, { content: '', flags }, [], origin(rec, msgType));
    } else if (type === InteractionResponseType.UpdateMessage) {
      const body = validateMessage(data, { creating: false, files: files.length });
      rec.original = rec.source && channels.edit(rec.source, body, files);
    } else if (type === InteractionResponseType.DeferredMessageUpdate) {
      rec.original = rec.source;
    }
  }

  return {
    interact(spec: InteractionSpec): InteractionHandle {
      if (!o.connected()) throw new Error('Discord stand-in: no gateway session is connected, so nobody would receive the interaction');
      const id = snowflake();
      const token = interactionToken(id);
      const built = o.builder.build(spec, id, token);
      const rec: Rec = {
        id, token, kind: built.payload.type, createdAt: Date.now(), channelId: built.channelId, userId: spec.userId,
        payload: built.payload as Record<string, unknown>, source: built.source, first: null, acknowledged: false,
        original: null, followUps: [], edits: [], events: new EventEmitter(),
      };
      byId.set(id, rec);
      byToken.set(token, rec);
      o.dispatch({ t: GatewayDispatchEvents.InteractionCreate, d: built.payload, intent: null });
      return handle(rec);
    },

    /** POST /interactions/{id}/{token}/callback */
    callback(id: string, token: string, raw: unknown, files: readonly UploadedFile[], withResponse: boolean): Reply {
      const rec = byId.get(id);
      if (!rec || rec.token !== token) throw unknown('interaction');
      const body = (raw ?? {}) as { type?: number; data?: MessageBody };
      if (rec.acknowledged) throw alreadyAcknowledged();
      const elapsedMs = Date.now() - rec.createdAt;
      const type = body.type as InteractionResponseType;
      const ephemeral = ((body.data?.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
      // `first` is the accepted callback, or until there is one the latest refused attempt (late, invalid).
      const note = (status: number, accepted: boolean) => {
        if (!rec.first?.accepted) rec.first = { type, data: body.data, status, accepted, ephemeral, at: new Date(), elapsedMs };
        rec.events.emit('callback');
      };
      try {
        if (elapsedMs > o.deadlineMs) throw unknown('interaction');
        apply(rec, type, body.data, ephemeral, files);
      } catch (e) {
        if (e instanceof ApiFailure) note(e.status, false);
        throw e;
      }
      rec.acknowledged = true;
      note(withResponse ? 200 : 204, true);
      if (!withResponse) return { status: 204 };
      const m = rec.original;
      return {
        status: 200,
        json: {
          interaction: {
            id: rec.id,
            type: rec.kind,
            ...(m ? { response_message_id: m.id, response_message_loading: ((m.flags ?? 0) & MessageFlags.Loading) !== 0, response_message_ephemeral: ((m.flags ?? 0) & MessageFlags.Ephemeral) !== 0 } : {}),
          },
          resource: { type, ...(m && type !== InteractionResponseType.DeferredMessageUpdate ? { message: m } : {}) },
        },
      };
    },

    getMessage(appId: string, token: string, messageId: string): APIMessage {
      return target(byWebhook(appId, token), messageId);
    },

    editMessage(appId: string, token: string, messageId: string, raw: unknown, files: readonly UploadedFile[]): APIMessage {
      const rec = byWebhook(appId, token);
      const m = target(rec, messageId);
      const data = validateMessage(raw, { creating: false, files: files.length });
      channels.edit(m, data, files);
      recordEdit(rec, { kind: 'edit', target: messageId, body: data, message: m });
      return m;
    },

    deleteMessage(appId: string, token: string, messageId: string): void {
      const rec = byWebhook(appId, token);
      const m = target(rec, messageId);
      if (((m.flags ?? 0) & MessageFlags.Ephemeral) === 0) channels.remove(m.channel_id, m.id);
      if (messageId === '@original') rec.original = null;
      else rec.followUps = rec.followUps.filter((f) => f !== m);
      recordEdit(rec, { kind: 'delete', target: messageId, body: undefined, message: null });
    },

    /** POST /webhooks/{app}/{token}: after a defer, the first follow-up fills in the "thinking…" message. */
    followUp(appId: string, token: string, raw: unknown, files: readonly UploadedFile[]): APIMessage {
      const rec = byWebhook(appId, token);
      const data = validateMessage(raw, { creating: true, files: files.length });
      const loading = rec.original && ((rec.original.flags ?? 0) & MessageFlags.Loading) !== 0;
      if (rec.original && loading) {
        const keepEphemeral = (rec.original.flags ?? 0) & MessageFlags.Ephemeral;
        channels.edit(rec.original, { ...data, flags: ((data.flags ?? 0) & ~MessageFlags.Ephemeral) | keepEphemeral }, files);
        recordEdit(rec, { kind: 'followup', target: '@original', body: data, message: rec.original });
        return rec.original;
      }
      const m = channels.create(rec.channelId, data, files, origin(rec, MessageType.Default));
      rec.followUps.push(m);
      recordEdit(rec, { kind: 'followup', target: m.id, body: data, message: m });
      return m;
    },

    /** Ephemeral messages only `userId` sees (replies and follow-ups), so the test can click their buttons. */
    ephemeralFor(userId: string): APIMessage[] {
      const own = [...byId.values()].filter((r) => r.userId === userId);
      return own.flatMap((r) => [r.original, ...r.followUps]).filter((m): m is APIMessage => m !== null && ((m.flags ?? 0) & MessageFlags.Ephemeral) !== 0);
    },

    clear(): void {
      byId.clear();
      byToken.clear();
    },
  };
}
