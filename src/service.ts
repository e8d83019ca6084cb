import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { publishDeadJob } from './app/dead-letter.ts';
import { startWebhookIngest, type WebhookIngest } from './ingest/webhook-ingest.ts';
import { createReadiness } from './app/readiness.ts';
import { enqueueResync, trackResync } from './app/resync.ts';
import { createSecurityAudit } from './app/security-audit.ts';
import { Events } from 'discord.js';
import { createDiscordClient, type DiscordClient } from './discord/client.ts';
import { createCommandRegistration } from './discord/command-registration.ts';
import { createMemberCommands } from './discord/commands/index.ts';
import { registerInteractions } from './discord/interactions.ts';
import { listManagedRoleHolders } from './discord/guild-members.ts';
import { registerGuildMemberAdd } from './discord/events/guild-member-add.ts';
import { registerGuildMemberUpdate } from './discord/events/guild-member-update.ts';
import { createDiscordMessenger, type DiscordMessenger } from './discord/messenger.ts';
import { createMemberRoles, type MemberRoles } from './discord/roles.ts';
import { createStartupCheck } from './discord/startup-check.ts';
import { buildServer } from './http/server.ts';
import { createMetrics } from './http/metrics.ts';
import { JOB_DEFINITIONS } from './jobs/definitions.ts';
import { createHandlers } from './jobs/handlers/index.ts';
import { createIngestPriority } from './jobs/backpressure.ts';
import { createJobRunner, type JobRunner } from './jobs/runner.ts';
import type { Logger } from './log.ts';
import { createPaypalClient, type PaypalClient } from './paypal/client.ts';
import { createTrustAnchors } from './paypal/signing-cert.ts';
import { createWebhookVerifier } from './paypal/verify-webhook.ts';
import { openStore, type Store } from './store/db.ts';
import { countByStatus } from './store/job-repo.ts';
import { listEntitledMemberIds } from './store/member-repo.ts';
import { watchTiers, type TiersSource } from './tiers.ts';

export interface ServiceOverrides {
  clock?: () => number;
  tiers?: TiersSource;
  paypal?: PaypalClient;
  /** How often the tiers file is polled for changes. */
  tiersPollMs?: number;
  pollMs?: number;
  leaseMs?: number;
  /** /readyz thresholds (tests shorten them). */
  readiness?: { workerStaleMs?: number; queueStaleMs?: number };
}

export interface Service {
  config: Config;
  store: Store;
  http: FastifyInstance;
  runner: JobRunner;
  /** Webhook ingest and its writer thread. */
  ingest: WebhookIngest;
  tiers: TiersSource;
  discord: DiscordClient;
  roles: MemberRoles;
  messenger: DiscordMessenger;
  /** Base URL the HTTP server listens on. */
  url: string;
  /**
   * Re-syncs the roles of every member who holds a managed role on Discord or
   * is entitled in the store: one role-sync job each (at Discord's rate limit),
   * progress logged. Resolves once the jobs are queued.
   */
  resyncAll(): Promise<{ members: number }>;
  close(): Promise<void>;
}

/**
 * Wires Concierge: store → tiers → PayPal → Discord → verifier → job runner → HTTP.
 * Used by main.ts (npm start), by end-to-end tests and by benchmarks.
 */
export async function startService(config: Config, log: Logger, o: ServiceOverrides = {}): Promise<Service> {
  const clock = o.clock ?? Date.now;
  const store = openStore(config.databasePath);
  const tiers = o.tiers ?? watchTiers(config.tiersFile, log.child({ component: 'tiers' }), o.tiersPollMs);
  const paypal =
    o.paypal ??
    createPaypalClient({
      clientId: config.paypal.clientId,
      clientSecret: config.paypal.clientSecret,
      apiUrl: config.paypal.apiUrl,
      mode: config.paypal.mode,
      timeoutMs: config.paypal.timeoutMs,
      log: log.child({ component: 'paypal' }),
    });

  const discordLog = log.child({ component: 'discord' });
  const discord = createDiscordClient({ ...config.discord, log: discordLog });
  const priority = createIngestPriority();
  let ingest: WebhookIngest;
  try {
    // A refused login (e.g. the Server Members intent switched off) fails the start with the fix in the message.
    await discord.start();
    ingest = await startWebhookIngest({
      databasePath: config.databasePath,
      clock,
      log: log.child({ component: 'webhook-writer' }),
      onReceived: () => priority.noteArrival(),
      onCommitted: () => runner.wake(),
    });
  } catch (err) {
    await discord.close();
    paypal.close();
    tiers.close();
    store.close();
    throw err;
  }
  const roles = createMemberRoles(discord, clock);
  const messenger = createDiscordMessenger(discord, config.discord.auditChannelId);
  const runner = createJobRunner({
    store,
    throttleMs: () => priority.throttleMs(),
    definitions: JOB_DEFINITIONS,
    handlers: createHandlers({ store, paypal, tiers, clock, roles, messenger }),
    log: log.child({ component: 'jobs' }),
    concurrency: config.jobs.concurrency,
    clock,
    onDead: publishDeadJob,
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
    leaseMs: o.leaseMs ?? config.jobs.leaseMs,
  });
  const startupCheck = createStartupCheck({ discord, auditChannelId: config.discord.auditChannelId, store, tiers, clock, log: discordLog });
  const listenerDeps = { guildId: config.discord.guildId, store, clock, log: discordLog };
  registerGuildMemberAdd(discord.client, listenerDeps);
  registerGuildMemberUpdate(discord.client, { ...listenerDeps, tiers, roles, botUserId: () => discord.botUserId() });
  startupCheck.run();
  const commandDeps = { store, tiers, paypal, clock, publicUrl: config.http.publicUrl, serverName: () => messenger.serverName() };
  const member = createMemberCommands({ ...commandDeps, log: discordLog.child({ component: 'commands' }) });
  registerInteractions(discord.client, { guildId: config.discord.guildId, ...member, clock, log: discordLog.child({ component: 'interactions' }) });
  const registration = createCommandRegistration({ discord, tiers, log: discordLog });
  await registration.register();
  const discordReadiness = () => {
    const state = discord.state();
    return {
      discord: state === 'ready' ? { ok: true, state } : { ok: false, state, detail: `Discord gateway is ${state}` },
      commands: registration.check(),
      ingest: ingest.check(),
      ...startupCheck.checks(),
    };
  };
  const metrics = createMetrics({ jobCounts: () => countByStatus(store.db) });
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
    readiness: createReadiness({ store, clock, workerBeat: () => runner.lastBeat(), extra: discordReadiness, ...o.readiness }),
    securityAudit: createSecurityAudit({ store, clock }),
    paypalReturn: { store, paypal, tiers, clock, serverName: () => messenger.serverName() },
  });

  const resyncLog = log.child({ component: 'resync' });
  const progress = new Set<() => void>();
  const resyncAll = async (): Promise<{ members: number }> => {
    const holders = await listManagedRoleHolders(discord, tiers.current().managedRoleIds);
    const entitled = listEntitledMemberIds(store.db);
    const ids = enqueueResync(store, [...holders, ...entitled], clock());
    resyncLog.info({ members: ids.length, holders: holders.length, entitled: entitled.length }, 'resync queued');
    const stop = trackResync(store, ids, resyncLog);
    progress.add(stop);
    return { members: ids.length };
  };
  // A READY after the first one is a new session (the old one was invalidated): events were lost, so re-sync everyone.
  discord.client.on(Events.ShardReady, () => {
    resyncLog.warn('new gateway session: events may have been lost; resyncing every member');
    resyncAll().catch((err: unknown) => resyncLog.error({ err }, 'resync after a new gateway session failed'));
  });
  // A tiers file that moves a tier to another role: entitled members need the new role now, not at their next change.
  let managedRoles = tiers.current().managedRoleIds;
  tiers.onChange((catalog) => {
    const before = managedRoles;
    managedRoles = catalog.managedRoleIds;
    const added = [...managedRoles].filter((r) => !before.has(r));
    if (added.length === 0) return;
    const released = [...before].filter((r) => !managedRoles.has(r));
    // A role no tier names any more is not Concierge's: it is left on members for staff to remove.
    resyncLog.warn({ added, released }, 'tier roles changed in the tiers file; resyncing every member');
    resyncAll().catch((err: unknown) => resyncLog.error({ err }, 'resync after a tier role change failed'));
  });

  runner.start();
  const address = await http.listen({ host: config.http.host, port: config.http.port });
  log.info({ address, database: config.databasePath, tiers: tiers.current().tiers.map((t) => t.key) }, 'Concierge is running');

  let closing: Promise<void> | null = null;
  return {
    config,
    store,
    http,
    runner,
    ingest,
    tiers,
    discord,
    roles,
    messenger,
    url: address,
    resyncAll,
    close: () =>
      (closing ??= (async () => {
        for (const stop of progress) stop();
        await http.close();
        await ingest.close();
        await runner.stop();
        await discord.close();
        paypal.close();
        tiers.close();
        store.close();
      })()),
  };
}
