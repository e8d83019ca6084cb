import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recomputeMember } from '../../src/app/recompute-member.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { startServiceWithParts, type Service, type ServiceOverrides, type ServiceParts } from '../../src/service.ts';
import { insertGrant } from '../../src/store/grant-repo.ts';
import { ensureMember } from '../../src/store/member-repo.ts';
import { createDiscordStandIn, type DiscordStandIn, type DiscordStandInOptions } from '../../src/stand-ins/discord/server.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import type { WebhookEvent } from '../../src/stand-ins/paypal/events.ts';
import type { SignedRequestOptions } from '../../src/stand-ins/paypal/deliver.ts';
import type { PlanSpec } from '../../src/stand-ins/paypal/state.ts';
import { FIXTURE_PLANS, ROLE_IDS, TIER_ORDER, TIERS_FIXTURE_PATH } from './tiers.ts';

export const TEST_WEBHOOK_ID = 'WH-TEST-0000000000000000';
export const MEMBER_ID = '300000000000000001';
export const OTHER_MEMBER_ID = '300000000000000002';

/** An unmanaged role every harness guild has: no test may ever see Concierge touch it. */
export const UNMANAGED_ROLE = 'Artist';

/**
 * A Discord stand-in with the fixture's tier roles under their fixed ids
 * (positions 1..4 by rank), an unmanaged role above them, and the bot's role
 * on top unless the options say otherwise.
 */
export function createTestDiscord(opts: DiscordStandInOptions = {}): Promise<DiscordStandIn> {
  return createDiscordStandIn({
    roles: [...TIER_ORDER.map((key, i) => ({ id: ROLE_IDS[key], name: key[0]?.toUpperCase() + key.slice(1), position: i + 1 })), { name: UNMANAGED_ROLE, position: TIER_ORDER.length + 1 }],
    messageLimit: 1000,
    ...opts,
  });
}

export interface StandIns {
  paypal: PaypalStandIn;
  discord: DiscordStandIn;
  /** A fresh temp directory for the database. */
  dir: string;
  close(): Promise<void>;
}

/** Both stand-ins and a temp directory, for tests that start the service themselves (start-up failures). */
export async function startStandIns(o: { discord?: DiscordStandInOptions } = {}): Promise<StandIns> {
  const paypal = await createPaypalStandIn();
  const discord = await createTestDiscord(o.discord);
  const dir = mkdtempSync(join(tmpdir(), 'concierge-test-'));
  return {
    paypal,
    discord,
    dir,
    close: async () => {
      await paypal.close();
      await discord.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The DISCORD_* variables that point a service at a stand-in. */
export function discordEnv(d: DiscordStandIn): Record<string, string> {
  return { DISCORD_API_URL: d.apiUrl, DISCORD_TOKEN: d.token, DISCORD_GUILD_ID: d.guildId, DISCORD_AUDIT_CHANNEL_ID: d.auditChannelId };
}

/** The test CA: trusted for TLS through NODE_EXTRA_CA_CERTS (vitest.config.ts) and for webhook signing chains through PAYPAL_CERT_CA_FILE. */
export const TEST_CA_FILE = fileURLToPath(new URL('../../src/stand-ins/tls/ca.pem', import.meta.url));

/** The environment a test service runs with: the PayPal stand-in, a temp database, the tiers fixture. */
export function testEnv(paypalUrl: string, dbPath: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DISCORD_TOKEN: 'MzAwMDAwMDAwMDAwMDAwMDk5.test.token-not-used-yet',
    DISCORD_GUILD_ID: '400000000000000001',
    DISCORD_AUDIT_CHANNEL_ID: '400000000000000002',
    PAYPAL_CLIENT_ID: 'test-client-id',
    PAYPAL_CLIENT_SECRET: 'test-client-secret',
    PAYPAL_WEBHOOK_ID: TEST_WEBHOOK_ID,
    PAYPAL_API_URL: paypalUrl,
    PAYPAL_CERT_HOSTS: '127.0.0.1',
    PAYPAL_CERT_CA_FILE: TEST_CA_FILE,
    PAYPAL_TIMEOUT_MS: '1500',
    PUBLIC_URL: 'https://members.example.test',
    HTTP_PORT: '0',
    DATABASE_PATH: dbPath,
    // Next to the database, in the test's temp directory: never ./data/backups of the working copy.
    BACKUP_DIR: join(dirname(dbPath), 'backups'),
    TIERS_FILE: TIERS_FIXTURE_PATH,
    LOG_LEVEL: 'silent',
    // Off unless a test turns it on: a scheduled run would read PayPal and Discord in tests that advance the clock by hours.
    RECONCILE_INTERVAL_MINUTES: '0',
    ...extra,
  };
}

/**
 * The service as tests see it: the product's handle (url, resyncAll, wake,
 * close) and, for tests only, the parts it is made of (store, runner,
 * writer thread, Discord client ...), so a test can read the database or stop
 * a part the way a crash would. The product itself gets only Service.
 */
export type ServiceUnderTest = Service & ServiceParts;

export interface Harness {
  paypal: PaypalStandIn;
  discord: DiscordStandIn;
  service: ServiceUnderTest;
  config: Config;
  dir: string;
  /** The shared clock (service and stand-in): real time plus an offset tests can advance. */
  now(): number;
  advance(ms: number): void;
  deliver(event: WebhookEvent<unknown>, opts?: Partial<SignedRequestOptions>): Promise<{ status: number; body: string }>;
  /** Polls until fn returns a truthy value (jobs run asynchronously), or fails after timeoutMs. */
  waitFor<T>(fn: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** Runs every due job to completion. */
  settle(): Promise<void>;
  /** A staff grant of `tierKey` (until `expiresAt`, null = lifetime), recorded the way staff commands will: grant + recompute, runner woken. */
  grantTier(memberId: string, tierKey: string, expiresAt: number | null): void;
  close(): Promise<void>;
}

export async function startHarness(
  o: {
    env?: Record<string, string>;
    overrides?: ServiceOverrides;
    log?: Logger;
    discord?: DiscordStandInOptions;
    /** Plans PayPal sells besides the fixture's (any other plan id is unknown to it, as at PayPal). */
    paypalPlans?: readonly PlanSpec[];
  } = {},
): Promise<Harness> {
  let offset = 0;
  const now = () => Date.now() + offset;
  const paypal = await createPaypalStandIn({ now: () => new Date(now()), plans: [...FIXTURE_PLANS, ...(o.paypalPlans ?? [])] });
  const discord = await createTestDiscord(o.discord);
  const dir = mkdtempSync(join(tmpdir(), 'concierge-test-'));
  const config = loadConfig(testEnv(paypal.url, join(dir, 'concierge.db'), { ...discordEnv(discord), ...o.env }));
  const started = await startServiceWithParts(config, o.log ?? createLogger('silent'), { clock: now, pollMs: 20, ...o.overrides });
  const service: ServiceUnderTest = { ...started.service, ...started.parts };
  const webhookUrl = `${service.url}/webhooks/paypal`;

  const waitFor = async <T,>(fn: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined && v !== null && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${fn.toString().slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  return {
    paypal,
    discord,
    service,
    config,
    dir,
    now,
    advance: (ms) => {
      offset += ms;
      service.wake();
    },
    deliver: (event, opts = {}) => paypal.deliver(event, { url: webhookUrl, webhookId: TEST_WEBHOOK_ID, transmissionTime: new Date(now()).toISOString(), ...opts }),
    waitFor,
    settle: () => service.runner.runUntilIdle(),
    grantTier: (memberId, tierKey, expiresAt) => {
      service.store.transaction((tx) => {
        ensureMember(tx, memberId, now());
        insertGrant(tx, { memberId, tierKey, grantedBy: discord.ownerId, reason: 'test grant', startsAt: now() - 1000, expiresAt }, now());
        recomputeMember(tx, service.effects, memberId, service.tiers.current(), now(), { reason: 'staff grant' });
      });
      service.wake();
    },
    close: async () => {
      await service.close();
      await paypal.close();
      await discord.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
