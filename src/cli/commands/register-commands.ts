import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { guildCommandDefinitions } from '../../discord/commands/definitions.ts';
import { registerGuildCommands, restForToken } from '../../discord/commands-rest.ts';
import { readTiersFile } from '../../tiers.ts';
import { explainFailures } from '../exit.ts';

export function registerRegisterCommands(program: Command): void {
  program
    .command('register-commands')
    .description('register the slash commands in DISCORD_GUILD_ID from the tiers file (guild bulk overwrite; also done at every start)')
    .action(
      explainFailures(async () => {
        const config = loadConfig();
        const catalog = readTiersFile(config.tiersFile);
        const { rest, applicationId } = await restForToken(config.discord.apiUrl, config.discord.token);
        const names = await registerGuildCommands(rest, applicationId, config.discord.guildId, guildCommandDefinitions(catalog));
        process.stdout.write(`registered ${names.length} command(s) in guild ${config.discord.guildId}: ${names.map((n) => `/${n}`).join(' ')}\n`);
      }),
    );
}
