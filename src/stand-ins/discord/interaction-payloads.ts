import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  PermissionFlagsBits,
  type APIApplicationCommand,
  type APIApplicationCommandOption,
  type APIInteractionDataResolved,
  type APIMessage,
} from 'discord-api-types/v10';
import { apiMember, apiRole, apiTextChannel, apiUser, GUILD_LOCALE } from './shapes.ts';
import { memberPermissions } from './permissions.ts';
import { snowflake } from './ids.ts';
import type { GuildState } from './state.ts';
import type { ChannelStore } from './channels.ts';

/**
 * INTERACTION_CREATE payloads as Discord builds them. A command registered by
 * bulk overwrite is checked like the Discord client would (option names,
 * types, choices, required options) and user/role/channel options carry
 * `resolved`; an unregistered command is accepted with inferred option types.
 */

export type OptionValue = string | number | boolean;

export interface CommandInteractionSpec {
  type: 'command';
  name: string;
  userId: string;
  subcommand?: string;
  subcommandGroup?: string;
  options?: Record<string, OptionValue>;
  /** Files the user uploads for attachment options: an attachment option's value names one of these by id. */
  attachments?: Record<string, UploadSpec>;
  channelId?: string;
  locale?: string;
}

export interface UploadSpec {
  filename: string;
  contentType: string;
  size: number;
}

export interface ButtonInteractionSpec {
  type: 'button';
  customId: string;
  userId: string;
  /** The message the button is on; default the latest message the user can see (channels, their DMs, their ephemeral replies) with that custom id. */
  messageId?: string;
  channelId?: string;
  locale?: string;
}

export type InteractionSpec = CommandInteractionSpec | ButtonInteractionSpec;

// What a bot may do in a DM (no guild permissions apply there).
const DM_APP_PERMISSIONS = (
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis
).toString();

function inferType(v: OptionValue): ApplicationCommandOptionType {
  if (typeof v === 'boolean') return ApplicationCommandOptionType.Boolean;
  if (typeof v === 'number') return Number.isInteger(v) ? ApplicationCommandOptionType.Integer : ApplicationCommandOptionType.Number;
  return ApplicationCommandOptionType.String;
}

export function createPayloadBuilder(o: {
  guild: GuildState;
  channels: ChannelStore;
  findCommand: (name: string) => APIApplicationCommand | undefined;
  /** Ephemeral messages the user sees (kept by their interactions, not by a channel). */
  ephemeralFor: (userId: string) => APIMessage[];
}) {
  const { guild, channels } = o;

  function interactionMember(userId: string) {
    const m = guild.findMember(userId);
    if (!m) throw new Error(`Discord stand-in: ${userId} is not a member of the guild, so cannot use its commands`);
    return { ...apiMember(m, guild.user(userId)), permissions: memberPermissions(guild.view, userId).toString() };
  }

  function resolveInto(resolved: APIInteractionDataResolved, type: ApplicationCommandOptionType, id: string, label: string): void {
    const asUser = (): boolean => {
      const u = guild.knownUser(id);
      if (!u) return false;
      (resolved.users ??= {})[id] = apiUser(u);
      const m = guild.findMember(id);
      if (m) {
        const { user: _u, deaf: _d, mute: _m, ...rest } = apiMember(m, u);
        (resolved.members ??= {})[id] = { ...rest, permissions: memberPermissions(guild.view, id).toString() };
      }
      return true;
    };
    const asRole = (): boolean => {
      const r = guild.role(id);
      if (r) (resolved.roles ??= {})[id] = apiRole(r);
      return r !== undefined;
    };
    const ok =
      type === ApplicationCommandOptionType.User ? asUser()
      : type === ApplicationCommandOptionType.Role ? asRole()
      : type === ApplicationCommandOptionType.Mentionable ? asUser() || asRole()
      : (() => {
          const c = channels.channel(id);
          (resolved.channels ??= {})[id] = { id, name: c.name, type: ChannelType.GuildText, permissions: '0' } as never;
          return true;
        })();
    if (!ok) throw new Error(`Discord stand-in: option ${label}: no user/role with id ${id}`);
  }

  /** An uploaded file as Discord resolves it: metadata and a signed CDN link (not served by the stand-in). */
  function resolveAttachment(resolved: APIInteractionDataResolved, id: string, uploads: Record<string, UploadSpec>, label: string): void {
    const u = uploads[id];
    if (!u) throw new Error(`Discord stand-in: option ${label}: no upload with id ${id} in the spec's attachments`);
    const url = `https://cdn.discordapp.com/ephemeral-attachments/${guild.guildId}/${id}/${encodeURIComponent(u.filename)}?ex=0&is=0&hm=0`;
    (resolved.attachments ??= {})[id] = { id, filename: u.filename, size: u.size, content_type: u.contentType, url, proxy_url: url.replace('cdn.discordapp.com', 'media.discordapp.net'), ephemeral: true };
  }

  function leafOptions(defs: readonly APIApplicationCommandOption[] | null, given: Record<string, OptionValue>, where: string, resolved: APIInteractionDataResolved, uploads: Record<string, UploadSpec>) {
    const out: { name: string; type: ApplicationCommandOptionType; value: OptionValue }[] = [];
    for (const [name, value] of Object.entries(given)) {
      const def = defs?.find((d) => d.name === name);
      if (defs && !def) throw new Error(`Discord stand-in: ${where} has no option "${name}" (registered: ${defs.map((d) => d.name).join(', ') || 'none'})`);
      const type = def?.type ?? inferType(value);
      const choices = def && 'choices' in def ? (def.choices ?? []) : [];
      if (choices.length && !choices.some((c) => c.value === value)) throw new Error(`Discord stand-in: ${where} option ${name}=${String(value)} is not one of its choices`);
      const idLike = [ApplicationCommandOptionType.User, ApplicationCommandOptionType.Role, ApplicationCommandOptionType.Mentionable, ApplicationCommandOptionType.Channel].includes(type);
      if (idLike) resolveInto(resolved, type, String(value), `${where} ${name}`);
      else if (type === ApplicationCommandOptionType.Attachment) resolveAttachment(resolved, String(value), uploads, `${where} ${name}`);
      else if (type === ApplicationCommandOptionType.Boolean ? typeof value !== 'boolean' : type === ApplicationCommandOptionType.String ? typeof value !== 'string' : typeof value !== 'number') {
        throw new Error(`Discord stand-in: ${where} option ${name} has type ${type}, got ${typeof value}`);
      }
      out.push({ name, type, value });
    }
    for (const d of defs ?? []) {
      if ('required' in d && d.required && !(d.name in given)) throw new Error(`Discord stand-in: ${where} needs option "${d.name}"`);
    }
    return out;
  }

  function commandData(spec: CommandInteractionSpec) {
    const registered = o.findCommand(spec.name);
    const resolved: APIInteractionDataResolved = {};
    let defs: readonly APIApplicationCommandOption[] | null = registered ? (registered.options ?? []) : null;
    let where = `/${spec.name}`;
    const pick = (name: string, type: ApplicationCommandOptionType) => {
      if (!defs) return;
      const d = defs.find((x) => x.name === name && x.type === type);
      if (!d) throw new Error(`Discord stand-in: ${where} has no ${type === ApplicationCommandOptionType.Subcommand ? 'subcommand' : 'group'} "${name}"`);
      defs = 'options' in d ? (d.options ?? []) : [];
    };
    if (spec.subcommandGroup) {
      pick(spec.subcommandGroup, ApplicationCommandOptionType.SubcommandGroup);
      where += ` ${spec.subcommandGroup}`;
    }
    if (spec.subcommand) {
      pick(spec.subcommand, ApplicationCommandOptionType.Subcommand);
      where += ` ${spec.subcommand}`;
    }
    if (defs?.some((d) => d.type === ApplicationCommandOptionType.Subcommand || d.type === ApplicationCommandOptionType.SubcommandGroup)) {
      throw new Error(`Discord stand-in: ${where} needs a subcommand`);
    }
    let options: unknown[] = leafOptions(defs, spec.options ?? {}, where, resolved, spec.attachments ?? {});
    if (spec.subcommand) options = [{ name: spec.subcommand, type: ApplicationCommandOptionType.Subcommand, options }];
    if (spec.subcommandGroup) options = [{ name: spec.subcommandGroup, type: ApplicationCommandOptionType.SubcommandGroup, options }];
    return {
      id: registered?.id ?? snowflake(),
      name: spec.name,
      type: ApplicationCommandType.ChatInput,
      ...(options.length ? { options } : {}),
      ...(Object.keys(resolved).length ? { resolved } : {}),
      ...(registered?.guild_id ? { guild_id: registered.guild_id } : {}),
    };
  }

  /** The latest message in reach with a component of that custom id. */
  function findSource(spec: ButtonInteractionSpec): APIMessage {
    const ephemeral = o.ephemeralFor(spec.userId);
    if (spec.messageId) {
      const m = channels.findMessage(spec.messageId) ?? ephemeral.find((x) => x.id === spec.messageId);
      if (!m) throw new Error(`Discord stand-in: no message ${spec.messageId} that ${spec.userId} can see`);
      return m;
    }
    const channelIds = spec.channelId ? [spec.channelId] : [...channels.textChannels().map((c) => c.id), channels.dmOf(spec.userId)?.id ?? ''];
    const visible = [...channelIds.flatMap((id) => (id ? channels.messages(id) : [])), ...ephemeral.filter((m) => !spec.channelId || m.channel_id === spec.channelId)];
    const hasId = (m: APIMessage) => JSON.stringify(m.components ?? []).includes(`"custom_id":${JSON.stringify(spec.customId)}`);
    const found = visible.filter(hasId).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)).pop();
    if (!found) throw new Error(`Discord stand-in: no message has a component with custom id "${spec.customId}"`);
    return found;
  }

  /** The INTERACTION_CREATE `d` for a spec, given a fresh id and token. */
  function build(spec: InteractionSpec, id: string, token: string) {
    const source = spec.type === 'button' ? findSource(spec) : null;
    const channelId = source?.channel_id ?? spec.channelId ?? channels.textChannels()[0]?.id ?? '';
    const channel = channels.channel(channelId);
    const inDm = channel.type === ChannelType.DM;
    const base = {
      id,
      application_id: guild.applicationId,
      token,
      version: 1 as const,
      locale: spec.locale ?? 'en-US',
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
      channel_id: channelId,
    };
    const where = inDm
      ? {
          user: apiUser(guild.user(spec.userId)),
          channel: channels.payload(channel),
          app_permissions: DM_APP_PERMISSIONS,
          context: InteractionContextType.BotDM,
          authorizing_integration_owners: { '0': '0' },
        }
      : {
          guild_id: guild.guildId,
          guild: { id: guild.guildId, locale: GUILD_LOCALE, features: [] },
          guild_locale: GUILD_LOCALE,
          member: interactionMember(spec.userId),
          channel: { ...apiTextChannel(channel, guild.guildId), permissions: memberPermissions(guild.view, spec.userId).toString() },
          app_permissions: memberPermissions(guild.view, guild.botUserId).toString(),
          context: InteractionContextType.Guild,
          authorizing_integration_owners: { '0': guild.guildId },
        };
    if (spec.type === 'command') {
      return { payload: { ...base, ...where, type: InteractionType.ApplicationCommand, data: commandData(spec) }, source: null, channelId };
    }
    const data = { custom_id: spec.customId, component_type: ComponentType.Button };
    return { payload: { ...base, ...where, type: InteractionType.MessageComponent, data, message: source }, source, channelId };
  }

  return { build };
}
