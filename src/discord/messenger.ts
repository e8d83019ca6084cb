import { DiscordAPIError, RESTJSONErrorCodes } from 'discord.js';
import type { Embed } from '../core/messages.ts';
import { ConciergeError } from '../errors.ts';
import type { DiscordClient } from './client.ts';
import { translateDiscordError } from './errors.ts';

/**
 * The audit channel and member DMs over discord.js; failures become
 * ConciergeErrors the job runner understands. Implements app/'s
 * MessageGateway (app/send-member-dm.ts) and AuditChannel (app/post-audit-entry.ts).
 */
export interface DiscordMessenger {
  /** The guild's name, or a generic stand-in while the gateway has not delivered it. */
  serverName(): string;
  /** 'closed' when the member does not accept DMs from the server (50007). */
  sendDm(userId: string, embed: Embed, once: string): Promise<'sent' | 'closed'>;
  /** Posts one embed to the audit channel. */
  postAudit(embed: Embed, once: string): Promise<void>;
}

export function createDiscordMessenger(discord: DiscordClient, auditChannelId: string): DiscordMessenger {
  return {
    serverName: () => discord.guild()?.name ?? 'the server',

    async postAudit(embed, once) {
      try {
        const channel = await discord.client.channels.fetch(auditChannelId);
        if (channel === null || !channel.isSendable()) {
          throw new ConciergeError('discord_audit_channel', `audit channel ${auditChannelId} is not a text channel Concierge can post in: fix DISCORD_AUDIT_CHANNEL_ID`, { retry: false });
        }
        // Discord's enforce_nonce: a repeat within a few minutes returns the first message instead of posting again.
        await channel.send({ embeds: [embed], nonce: once, enforceNonce: true });
      } catch (err) {
        if (err instanceof DiscordAPIError && (err.code === RESTJSONErrorCodes.MissingAccess || err.code === RESTJSONErrorCodes.MissingPermissions || err.code === RESTJSONErrorCodes.UnknownChannel)) {
          throw new ConciergeError(
            'discord_audit_channel',
            `Discord refused the audit post (${err.code} ${err.message}): give Concierge View Channel, Send Messages and Embed Links in channel ${auditChannelId}, or fix DISCORD_AUDIT_CHANNEL_ID`,
            { retry: false, cause: err },
          );
        }
        throw translateDiscordError(err, 'posting to the audit channel', null, null);
      }
    },

    async sendDm(userId, embed, once) {
      try {
        // Opened uncached: discord.js's channel cache cannot be limited, and it would keep a DM channel for every member ever DMed.
        const dm = await discord.client.users.createDM(userId, { cache: false });
        await dm.send({ embeds: [embed], nonce: once, enforceNonce: true });
        return 'sent';
      } catch (err) {
        // 50007: the member closed DMs from server members (or left); retrying cannot help.
        if (err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.CannotSendMessagesToThisUser) return 'closed';
        throw translateDiscordError(err, 'sending a DM', null, null);
      }
    },
  };
}
