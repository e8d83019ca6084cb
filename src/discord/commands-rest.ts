import { DiscordAPIError, REST, RESTJSONErrorCodes, Routes } from 'discord.js';
import type { APIApplication, RESTPostAPIApplicationGuildCommandsJSONBody } from 'discord-api-types/v10';
import { ConciergeError } from '../errors.ts';

/**
 * The Discord REST calls behind slash-command registration, shared by the
 * service (command-registration.ts, which decides when to register and
 * reports it in /readyz) and the CLI's `register-commands`.
 */

/**
 * Guild-scoped registration by bulk overwrite (PUT): the guild ends up with
 * exactly these commands, whatever an earlier version registered. Guild
 * commands update at once, unlike global ones.
 */
export async function registerGuildCommands(rest: REST, applicationId: string, guildId: string, body: readonly RESTPostAPIApplicationGuildCommandsJSONBody[]): Promise<string[]> {
  try {
    const result = (await rest.put(Routes.applicationGuildCommands(applicationId, guildId), { body })) as { name: string }[];
    return result.map((c) => c.name);
  } catch (err) {
    if (err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.MissingAccess) {
      throw new ConciergeError(
        'discord_commands_access',
        `Discord refused to register commands in guild ${guildId} (50001 Missing Access): invite the bot with the applications.commands scope (OAuth2 → URL Generator → bot + applications.commands), and check DISCORD_GUILD_ID`,
        { retry: false, cause: err },
      );
    }
    if (err instanceof DiscordAPIError && err.status === 400) {
      throw new ConciergeError('discord_commands_invalid', `Discord rejected the command definitions (${err.code} ${err.message}); check the tiers file's names and plan names`, { retry: false, cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new ConciergeError('discord_commands', `registering commands in guild ${guildId} failed: ${message}`, { retry: true, cause: err });
  }
}

/** For the CLI, which has no gateway session: a REST client and the application id behind the token. */
export async function restForToken(apiUrl: string, token: string): Promise<{ rest: REST; applicationId: string }> {
  const rest = new REST({ api: apiUrl, timeout: 10_000 }).setToken(token);
  try {
    const app = (await rest.get(Routes.currentApplication())) as APIApplication;
    return { rest, applicationId: app.id };
  } catch (err) {
    if (err instanceof DiscordAPIError && err.status === 401) {
      throw new ConciergeError('discord_token', 'Discord rejected DISCORD_TOKEN (401): copy the bot token again from the developer portal (Bot → Reset Token)', { retry: false, cause: err });
    }
    throw new ConciergeError('discord_unreachable', `cannot reach Discord at ${apiUrl}: ${err instanceof Error ? err.message : String(err)}`, { retry: true, cause: err });
  }
}
