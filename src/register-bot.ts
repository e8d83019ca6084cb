import type { Config } from './config.ts';
import type { DiscordClient } from './discord/client.ts';
import { createCommandRegistration } from './discord/command-registration.ts';
import type { AdminMaintenance } from './discord/commands/admin-maintenance.ts';
import { createCommands } from './discord/commands/index.ts';
import { registerGuildMemberAdd } from './discord/events/guild-member-add.ts';
import { registerGuildMemberUpdate } from './discord/events/guild-member-update.ts';
import { registerInteractions } from './discord/interactions.ts';
import type { DiscordMessenger } from './discord/messenger.ts';
import type { MemberRoles } from './discord/roles.ts';
import { createStartupCheck } from './discord/startup-check.ts';
import type { Logger } from './log.ts';
import type { PaypalClient } from './paypal/client.ts';
import type { Store } from './store/db.ts';
import type { MemberEffects } from './app/member-effects.ts';
import type { TiersSource } from './tiers.ts';

/**
 * The bot's side of Discord: the start-up check (run once now), the member
 * listeners, the interaction router with the member and staff commands, and the guild
 * command registration (awaited: a start fails if Discord refuses it).
 */
export async function registerBot(d: {
  config: Config;
  discord: DiscordClient;
  store: Store;
  effects: MemberEffects;
  tiers: TiersSource;
  paypal: PaypalClient;
  clock: () => number;
  roles: MemberRoles;
  messenger: DiscordMessenger;
  maintenance: AdminMaintenance;
  log: Logger;
}) {
  const { config, discord, store, tiers, clock, log } = d;
  const startupCheck = createStartupCheck({ discord, auditChannelId: config.discord.auditChannelId, store, tiers, clock, log });
  const listenerDeps = { guildId: config.discord.guildId, store, clock, log };
  registerGuildMemberAdd(discord.client, listenerDeps);
  registerGuildMemberUpdate(discord.client, { ...listenerDeps, tiers, roles: d.roles, botUserId: () => discord.botUserId() });
  startupCheck.run();
  const commandDeps = { store, effects: d.effects, tiers, paypal: d.paypal, clock, publicUrl: config.http.publicUrl, serverName: () => d.messenger.serverName(), maintenance: d.maintenance };
  const commands = createCommands({ ...commandDeps, log: log.child({ component: 'commands' }) });
  registerInteractions(discord.client, { guildId: config.discord.guildId, ...commands, clock, log: log.child({ component: 'interactions' }) });
  const registration = createCommandRegistration({ discord, tiers, log });
  await registration.register();
  return { startupCheck, registration };
}
