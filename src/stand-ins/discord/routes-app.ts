import { ApplicationFlags, type APIApplication } from 'discord-api-types/v10';
import { missingAccess, unknown } from './errors.ts';
import { apiUser } from './shapes.ts';
import type { GuildState } from './state.ts';
import type { CommandRegistry } from './commands.ts';
import type { createInteractions } from './interactions.ts';
import type { Route, RouteContext } from './http.ts';

/**
 * Gateway discovery, the application, its commands, and the interaction
 * endpoints (callback + webhook), which need no bot token: the interaction
 * token is the credential.
 */

export interface AppRouteDeps {
  guild: GuildState;
  gatewayUrl: string;
  guildCommands: CommandRegistry;
  globalCommands: CommandRegistry;
  interactions: ReturnType<typeof createInteractions>;
  privilegedIntentsEnabled: () => boolean;
}

/** Unverified apps get the *_LIMITED flags when the intents are switched on in the portal. */
export function applicationFlags(privileged: boolean): number {
  return privileged ? ApplicationFlags.GatewayGuildMembersLimited | ApplicationFlags.GatewayPresenceLimited | ApplicationFlags.GatewayMessageContentLimited : 0;
}

export function appRoutes(d: AppRouteDeps): Route[] {
  const { guild, interactions } = d;
  const ownApp = (c: RouteContext): void => {
    if (c.params['app'] !== guild.applicationId) throw missingAccess();
  };
  const commandsOf = (c: RouteContext): CommandRegistry => {
    ownApp(c);
    if (c.params['guild'] !== guild.guildId) throw missingAccess(); // not in that guild, or no applications.commands scope
    return d.guildCommands;
  };
  const application = (): APIApplication => ({
    id: guild.applicationId,
    name: 'Concierge',
    icon: null,
    description: '',
    bot_public: false,
    bot_require_code_grant: false,
    bot: apiUser(guild.user(guild.botUserId)),
    verify_key: '0'.repeat(64),
    flags: applicationFlags(d.privilegedIntentsEnabled()),
    flags_new: String(applicationFlags(d.privilegedIntentsEnabled())),
    owner: apiUser(guild.user(guild.ownerId)),
    team: null,
    summary: '',
    approximate_guild_count: 1,
  });
  const wh = (c: RouteContext) => [c.params['app'] ?? '', c.params['token'] ?? ''] as const;

  return [
    {
      method: 'GET',
      template: '/gateway/bot',
      auth: true,
      handle: () => ({ status: 200, json: { url: d.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 } } }),
    },
    { method: 'GET', template: '/gateway', auth: false, handle: () => ({ status: 200, json: { url: d.gatewayUrl } }) },
    { method: 'GET', template: '/applications/@me', auth: true, handle: () => ({ status: 200, json: application() }) },
    { method: 'GET', template: '/applications/:app/guilds/:guild/commands', auth: true, handle: (c) => ({ status: 200, json: commandsOf(c).list() }) },
    { method: 'PUT', template: '/applications/:app/guilds/:guild/commands', auth: true, handle: (c) => ({ status: 200, json: commandsOf(c).overwrite(c.body) }) },
    { method: 'POST', template: '/applications/:app/guilds/:guild/commands', auth: true, handle: (c) => ({ status: 201, json: commandsOf(c).create(c.body) }) },
    {
      method: 'DELETE',
      template: '/applications/:app/guilds/:guild/commands/:command',
      auth: true,
      handle(c) {
        if (!commandsOf(c).remove(c.params['command'] ?? '')) throw unknown('command');
        return { status: 204 };
      },
    },
    { method: 'GET', template: '/applications/:app/commands', auth: true, handle: (c) => (ownApp(c), { status: 200, json: d.globalCommands.list() }) },
    { method: 'PUT', template: '/applications/:app/commands', auth: true, handle: (c) => (ownApp(c), { status: 200, json: d.globalCommands.overwrite(c.body) }) },
    {
      method: 'POST',
      template: '/interactions/:interaction/:token/callback',
      auth: false,
      bucket: (p) => ({ key: `interaction-callback:${p['interaction'] ?? ''}`, limit: 5, windowMs: 1000 }),
      handle: (c) => interactions.callback(c.params['interaction'] ?? '', c.params['token'] ?? '', c.body, c.files, c.query.get('with_response') === 'true'),
    },
    { method: 'GET', template: '/webhooks/:app/:token/messages/:message', auth: false, handle: (c) => ({ status: 200, json: interactions.getMessage(...wh(c), c.params['message'] ?? '') }) },
    { method: 'PATCH', template: '/webhooks/:app/:token/messages/:message', auth: false, handle: (c) => ({ status: 200, json: interactions.editMessage(...wh(c), c.params['message'] ?? '', c.body, c.files) }) },
    {
      method: 'DELETE',
      template: '/webhooks/:app/:token/messages/:message',
      auth: false,
      handle(c) {
        interactions.deleteMessage(...wh(c), c.params['message'] ?? '');
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      template: '/webhooks/:app/:token',
      auth: false,
      handle(c) {
        const m = interactions.followUp(...wh(c), c.body, c.files);
        // Interaction follow-ups always return the message; `wait=false` only matters to plain webhooks.
        return { status: 200, json: m };
      },
    },
  ];
}
