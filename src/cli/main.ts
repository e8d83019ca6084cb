import { Command } from 'commander';
import { ConfigError, loadConfig, loadDatabasePath, loadDotEnv } from '../config.ts';
import { guildCommandDefinitions } from '../discord/commands/definitions.ts';
import { registerGuildCommands, restForToken } from '../discord/commands-rest.ts';
import { ConciergeError } from '../errors.ts';
import { openStore } from '../store/db.ts';
import { listDatabaseFiles, readPermissions } from '../store/file-modes.ts';
import { readTiersFile, TiersFileError } from '../tiers.ts';

/**
 * `npx concierge <command>`: thin commands over the same modules the service
 * uses. Exit 0 on success, non-zero on any failure.
 */
// Owner-only for whatever a command creates (database, backups): they hold buyers' names and e-mail addresses.
process.umask(0o077);
loadDotEnv();
const program = new Command('concierge').description('Concierge: Discord memberships sold through PayPal subscriptions').showHelpAfterError();

/**
 * Existing files among `paths` that group or others may access, with their permission bits. A file doctor
 * cannot even stat (EACCES: run as another user) is skipped here; opening it is what reports that problem.
 */
function openToOthers(paths: readonly string[]): { path: string; mode: number }[] {
  return paths.flatMap((path) => {
    let mode;
    try {
      mode = readPermissions(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') return [];
      throw err;
    }
    return mode === null || (mode & 0o077) === 0 ? [] : [{ path, mode }];
  });
}
const octal = (mode: number) => mode.toString(8).padStart(4, '0');

program
  .command('migrate')
  .description('apply database migrations (also done at every start)')
  .action(() => {
    const path = loadDatabasePath();
    const store = openStore(path);
    const applied = store.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number };
    store.close();
    process.stdout.write(`database ${path} is up to date (${applied.n} migration(s) applied)\n`);
  });

program
  .command('register-commands')
  .description('register the slash commands in DISCORD_GUILD_ID from the tiers file (guild bulk overwrite; also done at every start)')
  .action(async () => {
    try {
      const config = loadConfig();
      const catalog = readTiersFile(config.tiersFile);
      const { rest, applicationId } = await restForToken(config.discord.apiUrl, config.discord.token);
      const names = await registerGuildCommands(rest, applicationId, config.discord.guildId, guildCommandDefinitions(catalog));
      process.stdout.write(`registered ${names.length} command(s) in guild ${config.discord.guildId}: ${names.map((n) => `/${n}`).join(' ')}\n`);
    } catch (err) {
      if (!(err instanceof ConfigError || err instanceof TiersFileError || err instanceof ConciergeError)) throw err;
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    }
  });

program
  .command('doctor')
  .description('check the configuration, the tiers file and the database, and name every problem')
  .action(() => {
    const problems: string[] = [];
    let config;
    try {
      config = loadConfig();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
    const tiersFile = config?.tiersFile ?? process.env['TIERS_FILE'] ?? './tiers.yaml';
    try {
      const catalog = readTiersFile(tiersFile);
      process.stdout.write(`tiers file ${tiersFile}: ${catalog.tiers.map((t) => t.name).join(' < ')}\n`);
    } catch (err) {
      if (!(err instanceof TiersFileError)) throw err;
      problems.push(...err.problems.map((p) => `${tiersFile}: ${p}`));
    }
    const dbPath = config?.databasePath ?? loadDatabasePath();
    // Warnings, not problems: the service runs either way. The database files are checked before the open below, which restricts them.
    const warnings = openToOthers(['.env']).map(({ path, mode }) => `${path} is accessible to group/others (mode ${octal(mode)}) and holds the bot token and the PayPal secret; fix: chmod 600 ${path}`);
    const looseDb = openToOthers(listDatabaseFiles(dbPath));
    try {
      openStore(dbPath).close();
      process.stdout.write(`database ${dbPath}: writable, migrations applied\n`);
    } catch (err) {
      problems.push(`DATABASE_PATH ${dbPath}: ${(err as Error).message}`);
    }
    const stillLoose = new Set(openToOthers(listDatabaseFiles(dbPath)).map((f) => f.path));
    for (const { path, mode } of looseDb) {
      const holds = `holds buyers' names and e-mail addresses`;
      warnings.push(
        stillLoose.has(path)
          ? `${path} is accessible to group/others (mode ${octal(mode)}) and ${holds}; fix: chmod 600 ${path}`
          : `${path} was accessible to group/others (mode ${octal(mode)}) and ${holds}; now owner-only (Concierge restricts it whenever it opens the database)`,
      );
    }
    if (warnings.length > 0) process.stderr.write(warnings.map((w) => `warning: ${w}\n`).join(''));
    if (problems.length > 0) {
      process.stderr.write(`${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write('all checks passed\n');
    }
  });

await program.parseAsync(process.argv);
