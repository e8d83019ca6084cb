import type { Command } from 'commander';

/**
 * `npx concierge reconcile [--dry-run]`: the same run as the service's
 * schedule, from a second process on the same database (WAL: the service
 * keeps running). It opens no gateway session (one bot token, one session:
 * that is the service's). PayPal drift and missed events are applied here,
 * through the same use cases and transactions as the service. Discord drift
 * is read over REST and fixed by queueing role-sync jobs, which the running
 * service carries out: it paces them by Discord's rate limits and knows them
 * as its own changes, where a role change made from here would look like a
 * moderator's manual edit to it (and be reverted under policy `revert`).
 *
 * Exit codes: 0 the run completed (with or without differences); 1 it could
 * not (PayPal or Discord unreachable: nothing revoked); 78 bad configuration
 * or tiers file.
 */

export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description('compare the store with PayPal (open subscriptions, webhook events that never arrived) and Discord (managed roles), fix the differences and print them')
    .option('--dry-run', 'only print the differences and what would be done; change nothing')
    .addHelpText('after', '\nExit codes: 0 completed (differences or not), 1 could not complete (nothing revoked), 78 bad configuration.\nProgress goes to stderr, the table of differences to stdout.')
    .action(async (opts: { dryRun?: boolean }) => {
      // Loaded on use: the PayPal SDK and discord.js would slow every other command's start.
      const { reconcileFromCli } = await import('./reconcile-action.ts');
      process.exitCode = await reconcileFromCli(opts.dryRun === true);
    });
}

