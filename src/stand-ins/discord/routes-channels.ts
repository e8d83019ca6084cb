import { ApiFailure, missingAccess } from './errors.ts';
import { apiUser } from './shapes.ts';
import { memberPermissions } from './permissions.ts';
import { validateMessage } from './validate-message.ts';
import type { GuildState } from './state.ts';
import type { ChannelStore } from './channels.ts';
import type { BucketSpec } from './rate-limit.ts';
import type { Route, RouteContext } from './http.ts';

/** How long Discord remembers a nonce for enforce_nonce ("the past few minutes"); the stand-in takes five. */
const NONCE_WINDOW_MS = 5 * 60_000;

/**
 * Channels, messages, DMs and users. Posting checks what Discord checks:
 * the channel exists (10003), the bot may post there (50001/50013), and for
 * a DM that the user accepts DMs and still shares the guild (50007).
 */

export interface ChannelRouteDeps {
  guild: GuildState;
  channels: ChannelStore;
  messageBucket: (channelId: string) => BucketSpec;
}

export function channelRoutes(d: ChannelRouteDeps): Route[] {
  const { guild, channels } = d;
  const bot = () => guild.user(guild.botUserId);
  const channelOf = (c: RouteContext) => {
    const ch = channels.channel(c.params['channel'] ?? '');
    if (ch.restriction === 50001) throw missingAccess();
    return ch;
  };

  return [
    { method: 'GET', template: '/channels/:channel', auth: true, handle: (c) => ({ status: 200, json: channels.payload(channelOf(c)) }) },
    {
      method: 'GET',
      template: '/channels/:channel/messages',
      auth: true,
      handle(c) {
        const ch = channelOf(c);
        const limit = Math.min(100, Number(c.query.get('limit') ?? '50'));
        const before = c.query.get('before');
        const after = c.query.get('after');
        const list = channels
          .messages(ch.id)
          .filter((m) => (before === null || BigInt(m.id) < BigInt(before)) && (after === null || BigInt(m.id) > BigInt(after)));
        // Newest first, as Discord lists them.
        return { status: 200, json: [...list].reverse().slice(0, limit) };
      },
    },
    { method: 'GET', template: '/channels/:channel/messages/:message', auth: true, handle: (c) => ({ status: 200, json: channels.message(channelOf(c).id, c.params['message'] ?? '') }) },
    {
      method: 'POST',
      template: '/channels/:channel/messages',
      auth: true,
      bucket: (p) => d.messageBucket(p['channel'] ?? ''),
      handle(c) {
        const ch = channelOf(c);
        const body = validateMessage(c.body, { creating: true, files: c.files.length });
        channels.assertCanPost(ch);
        // Discord: enforce_nonce returns the author's message with the same nonce from the last few minutes instead of creating one.
        const repeat = body.enforce_nonce === true && body.nonce !== undefined ? channels.findByNonce(ch.id, bot().id, String(body.nonce), NONCE_WINDOW_MS) : undefined;
        if (repeat !== undefined) return { status: 200, json: repeat };
        return { status: 200, json: channels.create(ch.id, body, c.files, { author: bot() }) };
      },
    },
    {
      method: 'PATCH',
      template: '/channels/:channel/messages/:message',
      auth: true,
      handle(c) {
        const ch = channelOf(c);
        const m = channels.message(ch.id, c.params['message'] ?? '');
        if (m.author.id !== guild.botUserId) throw new ApiFailure(403, 50005, 'Cannot edit a message authored by another user');
        return { status: 200, json: channels.edit(m, validateMessage(c.body, { creating: false, files: c.files.length }), c.files) };
      },
    },
    {
      method: 'DELETE',
      template: '/channels/:channel/messages/:message',
      auth: true,
      handle(c) {
        channels.remove(channelOf(c).id, c.params['message'] ?? '');
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      template: '/users/@me/channels',
      auth: true,
      handle(c) {
        const recipient = String((c.body as { recipient_id?: unknown } | undefined)?.recipient_id ?? '');
        if (!guild.knownUser(recipient) || recipient === guild.botUserId) throw new ApiFailure(400, 50033, 'Invalid Recipient(s)');
        return { status: 200, json: channels.payload(channels.openDm(recipient)) };
      },
    },
    { method: 'GET', template: '/users/@me', auth: true, handle: () => ({ status: 200, json: { ...apiUser(bot()), verified: true, mfa_enabled: false, email: null, bot: true } }) },
    {
      method: 'GET',
      template: '/users/@me/guilds',
      auth: true,
      handle: () => ({
        status: 200,
        json: [{ id: guild.guildId, name: guild.name, icon: null, banner: null, owner: false, permissions: memberPermissions(guild.view, guild.botUserId).toString(), features: [] }],
      }),
    },
    { method: 'GET', template: '/users/:user', auth: true, handle: (c) => ({ status: 200, json: apiUser(guild.user(c.params['user'] ?? '')) }) },
  ];
}
