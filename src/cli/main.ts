import { Command, CommanderError } from 'commander';
import { loadDotEnv } from '../config.ts';
import { registerBackup } from './commands/backup.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerRegisterCommands } from './commands/register-commands.ts';
import { registerReplay } from './commands/replay.ts';
import { registerRestore } from './commands/restore.ts';
import { exitCodeOfCommander } from './exit.ts';
import { registerExportCommand } from './export-command.ts';
import { registerReconcileCommand } from './reconcile-command.ts';

/**
 * `npx concierge <command>`: thin commands over the same modules the service
 * uses, one file each in commands/. Exit codes in exit.ts: 0 ok, 1 failure,
 * 2 usage.
 */
// Owner-only for whatever a command creates (database, backups): they hold buyers' names and e-mail addresses.
process.umask(0o077);
loadDotEnv();
// exitOverride: commander throws instead of exiting, so its usage errors get exit code 2 (set on the subcommands too).
const program = new Command('concierge').description('Concierge: Discord memberships sold through PayPal subscriptions').showHelpAfterError().exitOverride();

for (const register of [registerMigrate, registerRegisterCommands, registerDoctor, registerBackup, registerRestore, registerReplay, registerJobs, registerReconcileCommand, registerExportCommand]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = exitCodeOfCommander(err);
}
