import { pino } from 'pino';
import { runReconcile, type ReconcileProgress } from '../app/reconcile.ts';
import { renderReportText } from '../core/reconcile-table.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { createServiceClock } from '../clock.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { restForToken } from '../discord/commands-rest.ts';
import { createRestGuildMembers } from '../discord/guild-members-rest.ts';
import { ConciergeError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { createPaypalClient } from '../paypal/client.ts';
import { openSerialVault } from '../serials/serial-key.ts';
import type { MemberEffects } from '../app/member-effects.ts';
import { openStore } from '../store/db.ts';
import { readTiersFile, TiersFileError, type TiersSource } from '../tiers.ts';

/** The work behind `npx concierge reconcile` (cli/reconcile-command.ts says what it does and why). */

const EXIT_INCOMPLETE = 1;
const EXIT_CONFIG = 78;

export async function reconcileFromCli(dryRun: boolean): Promise<number> {
  let config;
  let catalog: TierCatalog;
  try {
    config = loadConfig();
    catalog = readTiersFile(config.tiersFile);
  } catch (err) {
    if (!(err instanceof ConfigError || err instanceof TiersFileError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return EXIT_CONFIG;
  }
  const log = createLogger(config.logLevel, pino.destination(2));
  let store;
  let effects: MemberEffects;
  try {
    store = openStore(config.databasePath);
  } catch (err) {
    process.stderr.write(`cannot open the database ${config.databasePath}: ${(err as Error).message}\n`);
    return EXIT_INCOMPLETE;
  }
  try {
    // A member the CLI recomputes queues their marketplace sync like the service would; the running service sends it.
    effects = { vault: openSerialVault(store, { secret: config.serialSecret, databasePath: config.databasePath }), marketplaceSync: config.marketplace !== null };
  } catch (err) {
    store.close();
    process.stderr.write(`cannot open the database ${config.databasePath}: ${(err as Error).message}\n`);
    return EXIT_INCOMPLETE;
  }
  const paypal = createPaypalClient({ ...config.paypal, log: log.child({ component: 'paypal' }) });
  const { guildId, apiUrl, token } = config.discord;
  // REST only when the Discord check runs: a run stopped by PayPal never needs it.
  const guild = {
    readManagedRoles: async (managed: ReadonlySet<string>, candidates: ReadonlySet<string>) => {
      const { rest } = await restForToken(apiUrl, token);
      return createRestGuildMembers(rest, guildId).readManagedRoles(managed, candidates);
    },
  };
  const tiers: TiersSource = { current: () => catalog, onChange: () => undefined, close: () => undefined };
  try {
    // The service's clock: Date.now in production; with CLOCK_OFFSET_FILE (the demo) the run sees the time the service sees.
    const clock = createServiceClock(config.clockOffsetFile).now;
    const report = await runReconcile({ store, effects, tiers, clock, log, paypal, guild }, { dryRun, onProgress: createProgressPrinter() });
    process.stdout.write(renderReportText(report));
    if (!report.completed) process.stderr.write(`reconcile did not complete: ${report.failure ?? 'stopped early'}\n`);
    return report.completed ? 0 : EXIT_INCOMPLETE;
  } catch (err) {
    if (!(err instanceof ConciergeError)) throw err;
    process.stderr.write(`reconcile failed: ${err.message}\n`);
    return EXIT_INCOMPLETE;
  } finally {
    paypal.close();
    store.close();
  }
}

/** One stderr line per check, then at most one every 2 s. */
function createProgressPrinter(): (p: ReconcileProgress) => void {
  let lastAt = 0;
  let lastCheck = '';
  return (p) => {
    if (p.check === lastCheck && Date.now() - lastAt < 2_000) return;
    lastAt = Date.now();
    lastCheck = p.check;
    process.stderr.write(`reconcile: ${p.check} ${p.done}${p.total === null ? '' : ` / ${p.total}`}\n`);
  };
}
