import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tier, TierCatalog } from '../core/tiers.ts';
import { createDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord/server.ts';
import { createMarketplaceStandIn, type MarketplaceStandIn } from '../stand-ins/marketplace/server.ts';
import type { DeliverOptions } from '../stand-ins/paypal/deliver.ts';
import type { WebhookEvent } from '../stand-ins/paypal/events.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../stand-ins/paypal/server.ts';
import type { PlanSpec } from '../stand-ins/paypal/state.ts';
import { readTiersFile } from '../tiers.ts';

/**
 * The demo's stage: the Discord and PayPal stand-ins in this process and the
 * REAL Concierge process (`node --import tsx src/main.ts`, what `npm start`
 * runs) pointed at them, with a temporary database. Time moves only through
 * `advance()`: the offset file Concierge reads (CLOCK_OFFSET_FILE), the PayPal
 * stand-in's clock, and SIGUSR2 to the child — never by waiting. Used by the
 * scripted story and by `--serve`.
 */

export const DEMO_TIERS_FILE = fileURLToPath(new URL('./tiers.yaml', import.meta.url));
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const CA_FILE = fileURLToPath(new URL('../stand-ins/tls/ca.pem', import.meta.url));
export const DEMO_WEBHOOK_ID = 'WH-DEMO0000000000000000000';
const METRICS_TOKEN = 'demo-metrics-token';

/** Start-up transforms TypeScript (tsx): seconds on a busy 2-core machine. */
const START_TIMEOUT_MS = 40_000;
/** A CLI run beside the service: 3–4 s idle, but over 40 s was seen with three at once at load average 32. */
const CLI_TIMEOUT_MS = 120_000;

export interface StageOptions {
  tiersFile?: string;
  /** The child's LOG_LEVEL (its JSON log lines are kept, see `serviceOutput`). */
  logLevel?: string;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Stage {
  discord: DiscordStandIn;
  paypal: PaypalStandIn;
  /** The marketplace API stand-in (MARKETPLACE_API_URL): verifies signatures, keeps each member's newest state. */
  market: MarketplaceStandIn;
  catalog: TierCatalog;
  /** Where Concierge listens (also its PUBLIC_URL). */
  serviceUrl: string;
  /** The shared clock: real time plus the offset advanced so far (ms). */
  now(): number;
  /** Moves Concierge's and PayPal's clocks `ms` ahead; resolves once Concierge has answered after the signal. */
  advance(ms: number): Promise<void>;
  /** Signs an event as PayPal does and POSTs it to Concierge's webhook route. */
  deliver(event: WebhookEvent<unknown>, opts?: Partial<DeliverOptions>): Promise<{ status: number; body: string }>;
  /** Stops the Concierge process (SIGTERM, or SIGKILL for a crash). */
  stopService(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts Concierge again on the same database and port; resolves once it is ready. */
  startService(): Promise<void>;
  serviceRunning(): boolean;
  /** Everything the child wrote (its log lines), for a failure report. */
  serviceOutput(): string;
  /** Runs `concierge <args>` (the operator CLI, from source) beside the service, with its environment. */
  cli(args: readonly string[]): Promise<CliRun>;
  /** BACKUP_DIR. */
  backupDir: string;
  /** METRICS_TOKEN: /metrics wants it as a bearer token. */
  metricsToken: string;
  close(): Promise<void>;
}

/** A loopback port nobody listens on now (the child is told it before it starts, so PUBLIC_URL can name it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** `concierge <args>` from source (what `npx concierge` runs, compiled), in `cwd` with only `env`. */
function runCli(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  const proc = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A command that hangs must fail its step, not hang the demo.
  const timer = setTimeout(() => proc.kill('SIGKILL'), CLI_TIMEOUT_MS);
  return new Promise((resolve) =>
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** "4.99 USD / month" → the plan the PayPal stand-in sells (one plan per tier, monthly unless the price says year). */
export function plansOf(tier: Tier): PlanSpec[] {
  const m = /(\d+\.\d{2})\s+([A-Z]{3})\s*\/\s*(month|year)/.exec(tier.price ?? '');
  if (m === null) throw new Error(`demo tiers file: tier ${tier.key} needs a price such as "4.99 USD / month"`);
  return tier.plans.map((id) => ({ id, name: `${tier.name} ${m[3] === 'year' ? 'Yearly' : 'Monthly'}`, intervalUnit: m[3] === 'year' ? 'YEAR' : 'MONTH', intervalCount: 1, price: m[1] ?? '', currency: m[2] ?? '' }));
}

/** The demo server: a role per tier (lowest rank lowest), the Staff role(s) above them, the bot's role on top. */
function startDemoDiscord(catalog: TierCatalog): Promise<DiscordStandIn> {
  const staffRoles = catalog.file.staff_role_ids.map((id, i) => ({ id, name: i === 0 ? 'Staff' : `Staff ${i + 1}`, position: catalog.tiers.length + i + 1 }));
  return createDiscordStandIn({
    guildName: 'Concierge Demo',
    roles: [...catalog.tiers.map((t, i) => ({ id: t.role_id, name: t.name, position: i + 1 })), ...staffRoles],
    // The story posts dozens of audit messages and role changes in seconds; Discord's real limits would only slow it down.
    messageLimit: 1000,
    roleLimit: 1000,
  });
}

export async function startStage(o: StageOptions = {}): Promise<Stage> {
  const catalog = readTiersFile(o.tiersFile ?? DEMO_TIERS_FILE);
  let offset = 0;
  const now = () => Date.now() + offset;
  const paypal = await createPaypalStandIn({ now: () => new Date(now()), plans: catalog.tiers.flatMap(plansOf) });
  // The receiver checks each request's timestamp against its clock: the demo's, which runs ahead with Concierge's.
  const market = await createMarketplaceStandIn({ key: 'demo-marketplace-key', now });
  const discord = await startDemoDiscord(catalog);
  const dir = mkdtempSync(join(tmpdir(), 'concierge-demo-'));
  const offsetFile = join(dir, 'clock-offset-ms');
  const backupDir = join(dir, 'backups');
  writeFileSync(offsetFile, '0');
  const port = await freePort();
  const serviceUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    NODE_EXTRA_CA_CERTS: CA_FILE,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_TOKEN: discord.token,
    DISCORD_GUILD_ID: discord.guildId,
    DISCORD_AUDIT_CHANNEL_ID: discord.auditChannelId,
    PAYPAL_CLIENT_ID: paypal.clientId,
    PAYPAL_CLIENT_SECRET: paypal.clientSecret,
    PAYPAL_MODE: 'sandbox',
    PAYPAL_WEBHOOK_ID: DEMO_WEBHOOK_ID,
    PAYPAL_API_URL: paypal.url,
    PAYPAL_CERT_HOSTS: '127.0.0.1',
    PAYPAL_CERT_CA_FILE: CA_FILE,
    PUBLIC_URL: serviceUrl,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    DATABASE_PATH: join(dir, 'concierge.db'),
    // The daily backup runs when the demo's clock passes 03:00 UTC: into the demo's directory, not ./data/backups.
    BACKUP_DIR: backupDir,
    MARKETPLACE_API_URL: market.url,
    MARKETPLACE_API_KEY: market.key,
    METRICS_TOKEN: METRICS_TOKEN,
    TIERS_FILE: o.tiersFile ?? DEMO_TIERS_FILE,
    CLOCK_OFFSET_FILE: offsetFile,
    LOG_LEVEL: o.logLevel ?? 'warn',
  };

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const health = () =>
    fetch(`${serviceUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );

  async function startService(): Promise<void> {
    if (child !== null) return;
    const registrations = discord.callsTo('PUT', /\/commands$/);
    // cwd is the temp dir, so a developer's .env in the checkout never leaks into the demo.
    const proc = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), MAIN], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    // If the demo itself dies (an uncaught error, process.exit), Concierge must not run on as an orphan.
    const orphanGuard = () => proc.kill('SIGKILL');
    process.once('exit', orphanGuard);
    proc.once('exit', () => process.off('exit', orphanGuard));
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let gone = false;
    exited = new Promise((resolve) =>
      proc.on('exit', (code, signal) => {
        gone = true;
        output += `[concierge exited: ${signal ?? `code ${code}`}]\n`;
        if (child === proc) child = null;
        resolve();
      }),
    );
    const deadline = Date.now() + START_TIMEOUT_MS;
    // Ready = answering HTTP and its slash commands registered (start-up registers them after the gateway login).
    while (!((await health()) && discord.callsTo('PUT', /\/commands$/) > registrations)) {
      if (gone) throw new Error(`Concierge exited during start-up:\n${output}`);
      if (Date.now() > deadline) throw new Error(`Concierge did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stopService(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (child === null) return;
    child.kill(signal);
    await exited;
  }

  await startService();

  return {
    discord,
    paypal,
    market,
    backupDir,
    metricsToken: METRICS_TOKEN,
    cli: (args) => runCli(args, env, dir),
    catalog,
    serviceUrl,
    now,
    async advance(ms) {
      offset += ms;
      writeFileSync(offsetFile, String(offset));
      if (child === null) return;
      child.kill('SIGUSR2');
      // The signal is handled on the child's event loop; two answered requests sent after it make sure the
      // loop has turned (so the new offset is in force) before the caller acts at the new time.
      await health();
      await health();
    },
    deliver: (event, opts = {}) => paypal.deliver(event, { url: `${serviceUrl}/webhooks/paypal`, webhookId: DEMO_WEBHOOK_ID, transmissionTime: new Date(now()).toISOString(), ...opts }),
    stopService,
    startService,
    serviceRunning: () => child !== null,
    serviceOutput: () => output,
    async close() {
      await stopService();
      await paypal.close();
      await discord.close();
      await market.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
