import type { TierCatalog } from '../core/tiers.ts';
import type { Check } from '../app/readiness.ts';
import type { Logger } from '../log.ts';
import type { TiersSource } from '../tiers.ts';
import type { DiscordClient } from './client.ts';
import { guildCommandDefinitions } from './commands/definitions.ts';
import { registerGuildCommands } from './commands-rest.ts';

/**
 * The running service's command registration: keeps the guild's slash
 * commands in step with the tiers file, a bulk overwrite (commands-rest.ts)
 * at start-up and after every accepted reload (tier choices come from the
 * file). A failure does not stop Concierge (webhooks and roles still
 * work); it is logged with the fix and `/readyz` names it.
 */
export function createCommandRegistration(o: { discord: DiscordClient; tiers: TiersSource; log: Logger }) {
  let check: Check = { ok: false, detail: 'slash commands not registered yet' };
  let queue: Promise<void> = Promise.resolve();

  async function register(catalog: TierCatalog): Promise<void> {
    const applicationId = o.discord.client.application?.id;
    if (applicationId === undefined) {
      check = { ok: false, detail: 'not logged in to Discord: commands cannot be registered' };
      return;
    }
    try {
      const names = await registerGuildCommands(o.discord.client.rest, applicationId, o.discord.guildId, guildCommandDefinitions(catalog));
      check = { ok: true, registered: names.length };
      o.log.info({ commands: names, tiers: catalog.tiers.map((t) => t.key) }, 'slash commands registered');
    } catch (err) {
      check = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      o.log.error({ err }, 'slash command registration failed');
    }
  }

  o.tiers.onChange((catalog) => {
    // Serialised: two quick edits must not race, and the last file wins.
    queue = queue.then(() => register(catalog));
  });

  return {
    /** Registers for the current tiers file; resolves when done (never rejects). */
    register: (): Promise<void> => (queue = queue.then(() => register(o.tiers.current()))),
    check: (): Check => check,
  };
}
