import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { ConciergeError } from './errors.ts';
import { createClosers, type Closers } from './closers.ts';
import { publishDeadJob } from './app/dead-letter.ts';
import { startWebhookIngest, type WebhookIngest } from './ingest/webhook-ingest.ts';
import { createReadiness } from './app/readiness.ts';
import { createResync } from './app/resync.ts';
import { applyResyncPolicy } from './app/resync-policy.ts';
import { createSecurityAudit } from './app/security-audit.ts';
import { keepSerialsInLine } from './app/reconcile-serials.ts';
import { startMarketplaceBackfill } from './app/marketplace-backfill.ts';
import type { RunPacing } from './app/reconcile-run.ts';
import { scheduleReconcile } from './app/reconcile-schedule.ts';
import { retentionPolicy } from './app/retention.ts';
import { ensureSchedules } from './app/schedules.ts';
import { createDiscordClient, type DiscordClient } from './discord/client.ts';
import { createAdminMaintenance, type AdminMaintenance, type AdminMaintenanceDeps } from './discord/commands/admin-maintenance.ts';
import { createGuildMembers, type GuildMembers } from './discord/guild-members.ts';
import { watchRateLimits } from './discord/rest-429s.ts';
import { createDiscordMessenger, type DiscordMessenger } from './discord/messenger.ts';
import { createMemberRoles, type MemberRoles } from './discord/roles.ts';
import { buildServer } from './http/server.ts';
import { createServiceMetrics } from './metrics/store-sources.ts';
import { createHandlers } from './job-handlers/index.ts';
import { JOB_DEFINITIONS } from './jobs/definitions.ts';
import { createIngestPriority } from './jobs/backpressure.ts';
import { createJobRunner, type JobRunner } from './jobs/runner.ts';
import { createMarketplaceClient } from './marketplace/client.ts';
import type { Logger } from './log.ts';
import { createPaypalClient, type PaypalClient } from './paypal/client.ts';
import { createTrustAnchors } from './paypal/signing-cert.ts';
import { createWebhookVerifier } from './paypal/verify-webhook.ts';
import { openStore, type Store } from './store/db.ts';
import { openReader } from './store/reader.ts';
import { acquireInstanceLock } from './store/instance-lock.ts';
import { expireAllLeases } from './store/job-repo.ts';
import { openSerialVault } from './serials/serial-key.ts';
import type { MemberEffects } from './app/member-effects.ts';
import { registerBot } from './register-bot.ts';
import { watchTiers, type TiersSource } from './tiers.ts';

export interface ServiceOverrides {
  clock?: () => number;
  tiers?: TiersSource;
  paypal?: PaypalClient;
  /** How often the tiers file is polled for changes. */
  tiersPollMs?: number;
  pollMs?: number;
  leaseMs?: number;
  /** How long a shutdown lets running jobs finish (SHUTDOWN_GRACE_MS); tests shorten it. */
  stopGraceMs?: number;
  /** /readyz thresholds (tests shorten them). */
  readiness?: { workerStaleMs?: number; queueStaleMs?: number };
  /** Reconciliation's PayPal pacing and retry waits (tests shorten them). */
  reconcilePacing?: RunPacing;
  /** Least time between two edits of an /admin progress message (tests shorten it). */
  adminProgressEveryMs?: number;
}

/**
 * How long close() lets running jobs finish before interrupting them (they go back to the queue without
 * using an attempt). A job is a few Discord or PayPal calls (normally under a second, SPEC Timing: at most
 * 5 s while Discord answers), so 10 s lets nearly every one finish; main.ts's hard stop and systemd's
 * TimeoutStopSec=30 leave room for it and for the interruption.
 */
export const SHUTDOWN_GRACE_MS = 10_000;

/** A running Concierge, as the product uses it (main.ts). */
export interface Service {
  /** Base URL the HTTP server listens on. */
  url: string;
  /**
   * Re-syncs the roles of every member who holds a managed role on Discord or
   * is entitled in the store: one role-sync job each (at Discord's rate limit),
   * progress logged. Resolves once the jobs are queued.
   */
  resyncAll(): Promise<{ members: number }>;
  /** Runs the jobs that are due now without waiting for the next poll: after the service clock moved. */
  wake(): void;
  /**
   * Shuts down gracefully: webhooks get 503 with Retry-After (PayPal retries), running jobs get
   * SHUTDOWN_GRACE_MS to finish, then everything that was started stops, the last started first
   * (HTTP, writer thread, gateway, database, and the instance lock last).
   */
  close(): Promise<void>;
}

/**
 * What a running service is made of. Not for the product: tests (through
 * test/helpers/harness.ts) and benchmarks look inside with it, to read the
 * store, stop the runner or the writer thread the way a crash would.
 */
export interface ServiceParts {
  config: Config;
  store: Store;
  /** The serial key and the marketplace switch the use cases are given. */
  effects: MemberEffects;
  http: FastifyInstance;
  runner: JobRunner;
  /** Webhook ingest and its writer thread. */
  ingest: WebhookIngest;
  tiers: TiersSource;
  discord: DiscordClient;
  roles: MemberRoles;
  messenger: DiscordMessenger;
  /** The guild's member list over the gateway (bulk resync, reconciliation). */
  guild: GuildMembers;
  /** /admin resync, export and reconcile, for the /admin command router to call once the staff check passed. */
  adminMaintenance: ReturnType<typeof createAdminMaintenance>;
}

/**
 * Wires Concierge: store → tiers → PayPal → Discord → job runner → webhook
 * writer → listeners and commands → HTTP. Used by main.ts (npm start).
 */
export async function startService(config: Config, log: Logger, o: ServiceOverrides = {}): Promise<Service> {
  return (await startServiceWithParts(config, log, o)).service;
}

/** startService, also handing out the parts: for tests and benchmarks only (see ServiceParts). */
export async function startServiceWithParts(config: Config, log: Logger, o: ServiceOverrides = {}): Promise<{ service: Service; parts: ServiceParts }> {
  const closers = createClosers(log);
  try {
    return await assembleService(config, log, o, closers);
  } catch (err) {
    // Whatever started before the failure stops again; a failure to close was logged, the start's error is the one to report.
    await closers.closeAll().catch(() => undefined);
    throw err;
  }
}

/** Long on purpose: the start order, read top to bottom, is the order the closers unwind (bot wiring: registerBot). */
async function assembleService(config: Config, log: Logger, o: ServiceOverrides, closers: Closers): Promise<{ service: Service; parts: ServiceParts }> {
  const clock = o.clock ?? Date.now;
  // The tiers file first: a bad one stops the start before the database is created, opened or migrated.
  const tiers = o.tiers ?? watchTiers(config.tiersFile, log.child({ component: 'tiers' }), o.tiersPollMs);
  closers.push('tiers', () => tiers.close());
  const lock = acquireInstanceLock(config.databasePath);
  if (!lock.ok) {
    throw new ConciergeError('instance_running', `another Concierge is running on the database ${config.databasePath} (it holds ${lock.path}); one instance per database: stop it first`, { retry: false });
  }
  closers.push('instance lock', () => lock.lock.release());
  const store = openStore(config.databasePath);
  closers.push('store', () => store.close());
  // With a marketplace, every change of a member's tier or serials queues its sync (app/sync-marketplace.ts).
  const effects: MemberEffects = { vault: openSerialVault(store, { secret: config.serialSecret, databasePath: config.databasePath }), marketplaceSync: config.marketplace !== null };
  // The lock says no other process runs on this database: what is still leased was leased by a dead one.
  const released = expireAllLeases(store.db, clock());
  if (released > 0) log.warn({ jobs: released }, 'jobs interrupted by the previous process run again now');
  const metrics = createServiceMetrics({ db: store.db, clock, backupDir: config.backup.dir, gatewayState: () => discord.state() });
  const paypal =
    o.paypal ??
    createPaypalClient({
      clientId: config.paypal.clientId,
      clientSecret: config.paypal.clientSecret,
      apiUrl: config.paypal.apiUrl,
      mode: config.paypal.mode,
      timeoutMs: config.paypal.timeoutMs,
      log: log.child({ component: 'paypal' }),
      onCall: metrics.paypalCall,
    });
  closers.push('paypal', () => paypal.close());

  const discordLog = log.child({ component: 'discord' });
  const discord = createDiscordClient({ ...config.discord, log: discordLog, onRestCall: metrics.discordCall });
  closers.push('discord', () => discord.close());
  // A refused login (e.g. the Server Members intent switched off) fails the start with the fix in the message.
  await discord.start();
  const roles = createMemberRoles(discord, clock);
  const messenger = createDiscordMessenger(discord, config.discord.auditChannelId);
  const guild = createGuildMembers(discord);
  const reconcile = { intervalMs: config.reconcile?.intervalMs ?? null, ...o.reconcilePacing };
  const marketplace = config.marketplace === null ? null : createMarketplaceClient({ ...config.marketplace, clock, log: log.child({ component: 'marketplace' }) });

  const priority = createIngestPriority();
  const runner = createJobRunner({
    store,
    throttleMs: () => priority.throttleMs(),
    definitions: JOB_DEFINITIONS,
    handlers: createHandlers({
      store, effects, paypal, tiers, clock, roles, messenger, marketplace, guild, reconcile,
      backup: config.backup,
      retention: retentionPolicy({ ...config.retention, webhookMaxAgeSeconds: config.webhook.maxAgeSeconds }),
    }),
    log: log.child({ component: 'jobs' }),
    concurrency: config.jobs.concurrency,
    clock,
    onDead: publishDeadJob,
    observer: metrics.jobs,
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
    leaseMs: o.leaseMs ?? config.jobs.leaseMs,
    stopGraceMs: o.stopGraceMs ?? SHUTDOWN_GRACE_MS,
  });
  closers.push('job runner', () => runner.stop());
  const ingest = await startWebhookIngest({
    databasePath: config.databasePath,
    clock,
    log: log.child({ component: 'webhook-writer' }),
    onReceived: () => priority.noteArrival(),
    onCommitted: () => runner.wake(),
  });
  closers.push('webhook writer', () => ingest.close());

  // The /admin maintenance commands need the resync made below; commands registered now reach it once it exists.
  let adminMaintenance: AdminMaintenance | null = null;
  const maintenance: AdminMaintenance = {
    handle: async (sub, i, opts) => {
      if (adminMaintenance === null) throw new Error('the /admin maintenance commands are not ready yet');
      return adminMaintenance.handle(sub, i, opts);
    },
  };
  const bot = await registerBot({ config, discord, store, effects, tiers, paypal, clock, roles, messenger, maintenance, log: discordLog });

  const resyncLog = log.child({ component: 'resync' });
  const resync = createResync({ store, tiers, roleHolders: guild, clock, log: resyncLog, watchRateLimits: () => watchRateLimits(discord) });
  closers.push('resync progress', () => resync.stop());
  applyResyncPolicy({ gateway: discord, tiers, resyncAll: resync.resyncAll, log: resyncLog });
  adminMaintenance = createAdminMaintenance({
    store,
    effects,
    tiers,
    clock,
    log: discordLog.child({ component: 'admin' }),
    resync,
    reconcile: { paypal, guild, ...o.reconcilePacing },
    openReader: () => readerFor(config.databasePath, store),
    ...(o.adminProgressEveryMs === undefined ? {} : { progressEveryMs: o.adminProgressEveryMs }),
  });

  const http = buildServer({
    log,
    store,
    verifier: createWebhookVerifier({
      webhookId: config.paypal.webhookId,
      mode: config.paypal.mode,
      certHosts: config.paypal.certHosts,
      trustAnchors: createTrustAnchors(config.paypal.certCa?.pem ?? null),
      maxAgeSeconds: config.webhook.maxAgeSeconds,
      clock,
      log: log.child({ component: 'webhook-verify' }),
    }),
    ingest,
    metrics,
    metricsToken: config.metricsToken,
    trustProxy: config.trustProxy,
    readiness: createReadiness({
      store,
      clock,
      workerBeat: () => runner.lastBeat(),
      gatewayState: () => discord.state(),
      checks: { commands: () => bot.registration.check(), ingest: () => ingest.check() },
      checkGroups: [() => bot.startupCheck.checks()],
      ...o.readiness,
    }),
    securityAudit: createSecurityAudit({ store, clock }),
    paypalReturn: { store, effects, paypal, tiers, clock, serverName: () => messenger.serverName() },
    licenses: { store, tiers, clock, vault: effects.vault },
  });
  closers.push('http', () => http.close());
  // Runs before the HTTP server closes: webhooks are refused with a 503 PayPal retries (not a refused
  // connection) while the jobs already running finish.
  closers.push('webhooks and jobs', async () => {
    ingest.stopAccepting();
    await runner.stop();
  });

  const serials = keepSerialsInLine({ store, effects, tiers, clock, log: log.child({ component: 'serials' }) });
  closers.push('serials', () => serials.stop());
  // A marketplace configured after members changed without it hears of them now (app/marketplace-backfill.ts).
  const backfill = config.marketplace === null ? null : startMarketplaceBackfill({ store, clock, log: log.child({ component: 'marketplace' }) });
  closers.push('marketplace backfill', () => backfill?.stop());
  // Restart-safe: a run already queued (by the last start or the last run) stays; otherwise one is queued an interval from now.
  if (config.reconcile !== null) scheduleReconcile(store, clock(), config.reconcile.intervalMs);
  // Expiry warnings, retention and the daily backup: queued once, then each run queues the next.
  ensureSchedules(store, clock());
  runner.start();
  const address = await http.listen({ host: config.http.host, port: config.http.port });
  log.info({ address, database: config.databasePath, tiers: tiers.current().tiers.map((t) => t.key) }, 'Concierge is running');

  let closing: Promise<void> | null = null;
  return {
    service: {
      url: address,
      resyncAll: resync.resyncAll,
      wake: () => runner.wake(),
      close: () => (closing ??= closers.closeAll()),
    },
    parts: { config, store, effects, http, runner, ingest, tiers, discord, roles, messenger, guild, adminMaintenance },
  };
}

/** The export's own connection; an in-memory database has no second connection to open, so it reads through the store's. */
function readerFor(databasePath: string, store: Store): ReturnType<AdminMaintenanceDeps['openReader']> {
  if (databasePath === ':memory:' || databasePath === '') return { db: store.db, sqlite: store.sqlite, close: () => undefined };
  return openReader(databasePath);
}
