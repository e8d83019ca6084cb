import { loadConfig, loadDatabasePath, ConfigError, type Config } from '../../config.ts';
import { expectedWebhookUrl } from '../../core/webhook-subscription.ts';
import type { TierCatalog } from '../../core/tiers.ts';
import { openStore } from '../../store/db.ts';
import { listDatabaseFiles, readPermissions } from '../../store/file-modes.ts';
import { readTiersFile, TiersFileError } from '../../tiers.ts';
import type { DoctorReport } from './report.ts';

/**
 * doctor's checks of this machine: the configuration (every variable), the
 * tiers file, the database (opened and migrated), file permissions, and that
 * PUBLIC_URL is https. Returns the config and tiers when they loaded, for the
 * checks with PayPal and Discord.
 */
export function checkLocal(r: DoctorReport): { config: Config | null; catalog: TierCatalog | null } {
  let config: Config | null = null;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    r.problems.push(...err.problems);
  }
  const tiersFile = config?.tiersFile ?? process.env['TIERS_FILE'] ?? './tiers.yaml';
  let catalog: TierCatalog | null = null;
  try {
    catalog = readTiersFile(tiersFile);
    r.found.push(`tiers file ${tiersFile}: ${catalog.tiers.map((t) => t.name).join(' < ')}`);
  } catch (err) {
    if (!(err instanceof TiersFileError)) throw err;
    r.problems.push(...err.problems.map((p) => `${tiersFile}: ${p}`));
  }
  checkDatabase(r, config?.databasePath ?? loadDatabasePath());
  if (config !== null && !config.http.publicUrl.startsWith('https://')) {
    r.problems.push(`PUBLIC_URL ${config.http.publicUrl}: must be https:// (PayPal delivers webhooks to ${expectedWebhookUrl(config.http.publicUrl)} and sends buyers back there); serve it through nginx with TLS (README)`);
  }
  return { config, catalog };
}

function checkDatabase(r: DoctorReport, dbPath: string): void {
  // Warnings, not problems: the service runs either way. The database files are checked before the open below, which restricts them.
  r.warnings.push(...openToOthers(['.env']).map(({ path, mode }) => `${path} is accessible to group/others (mode ${octal(mode)}) and holds the bot token and the PayPal secret; fix: chmod 600 ${path}`));
  const looseDb = openToOthers(listDatabaseFiles(dbPath));
  try {
    openStore(dbPath).close();
    r.found.push(`database ${dbPath}: writable, migrations applied`);
  } catch (err) {
    r.problems.push(`DATABASE_PATH ${dbPath}: ${(err as Error).message}`);
  }
  const stillLoose = new Set(openToOthers(listDatabaseFiles(dbPath)).map((f) => f.path));
  for (const { path, mode } of looseDb) {
    const holds = `holds buyers' names and e-mail addresses`;
    r.warnings.push(
      stillLoose.has(path)
        ? `${path} is accessible to group/others (mode ${octal(mode)}) and ${holds}; fix: chmod 600 ${path}`
        : `${path} was accessible to group/others (mode ${octal(mode)}) and ${holds}; now owner-only (Concierge restricts it whenever it opens the database)`,
    );
  }
}

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
