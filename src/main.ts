import { createServiceClock } from './clock.ts';
import { ConfigError, loadConfig, loadDotEnv } from './config.ts';
import { ConciergeError } from './errors.ts';
import { createLogger } from './log.ts';
import { SHUTDOWN_GRACE_MS, startService } from './service.ts';
import { DatabaseFileError } from './store/open-guard.ts';
import { TiersFileError } from './tiers.ts';

/**
 * `npm start`: configuration from the environment and from .env when present
 * (the environment wins), then the whole service in one process. Bad
 * configuration exits non-zero with one message naming every problem.
 */
// Owner-only for every file and directory the service creates (database, WAL, backups): they hold buyers'
// names and e-mail addresses. First thing, before anything creates a file; systemd's UMask= says the same.
process.umask(0o077);
loadDotEnv();

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const log = createLogger(config.logLevel);
let service;
try {
  const clock = createServiceClock(config.clockOffsetFile);
  service = await startService(config, log, { clock: clock.now });
  if (config.clockOffsetFile !== null) {
    const woken = service;
    process.on('SIGUSR2', () => {
      // Time moved: jobs due by the new time (lapse checks, retries) run now.
      log.info({ offsetMs: clock.reload() }, 'clock offset reloaded');
      woken.wake();
    });
  }
} catch (err) {
  if (err instanceof TiersFileError || err instanceof ConciergeError || err instanceof DatabaseFileError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  log.fatal({ err }, 'Concierge could not start');
  process.exit(1);
}

const running = service;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Webhooks get 503 and running jobs their grace period; a job cut off runs again at the next start.
    // The hard stop leaves room for the grace and the rest of the close, inside systemd's TimeoutStopSec=30.
    const hardStop = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 10_000);
    hardStop.unref();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
