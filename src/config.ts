import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { normaliseHost } from './paypal/cert-url.ts';
import { parsePemCertificates } from './paypal/signing-cert.ts';

/**
 * The only reader of process.env. Every variable of SPEC's configuration
 * contract is validated here once; the rest of the program receives the typed,
 * nested `Config`. A bad environment produces ONE error naming every problem.
 */

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord id (17–20 digits; right-click → Copy ID with Developer Mode on)');
const httpUrl = z
  .string()
  .url('must be an absolute URL such as https://example.com')
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
  .transform((u) => u.replace(/\/+$/, ''));
/** 127.0.0.0/8, localhost and ::1, as WHATWG URL spells hostnames (IPv4 normalised, IPv6 in brackets). */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
// These URLs receive the bot token, PayPal's client secret and the marketplace key; plain http is for local stand-ins only.
const apiUrl = httpUrl.refine(
  (u) => u.startsWith('https://') || !URL.canParse(u) || isLoopbackHost(new URL(u).hostname),
  'must be https:// unless it points at this machine (loopback); a typo would send secrets in clear',
);
/** An IP address, or a CIDR range such as 10.0.0.0/8 (what Fastify's trustProxy, through proxy-addr, accepts). */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}
/** A serial secret carries at least 256 bits (one AES-256 key's worth). */
export const SERIAL_SECRET_MIN_BYTES = 32;
const trustsNoProxy = (list: string[]): boolean => list.length === 1 && /^(false|none)$/i.test(list[0] ?? '');
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** Lower-case labels of letters, digits and hyphens: no wildcard, no leading dot, no port. */
const HOSTNAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? null : v));

/** Exported for the README contract test (every variable documented, none invented). */
export const envSchema = z.object({
  DISCORD_TOKEN: z.string().min(20, 'must be the bot token from the Discord developer portal (Bot → Reset Token)'),
  DISCORD_GUILD_ID: snowflake,
  DISCORD_AUDIT_CHANNEL_ID: snowflake,
  DISCORD_API_URL: apiUrl.default('https://discord.com/api'),
  PAYPAL_CLIENT_ID: z.string().min(1, 'must be the client id of your PayPal REST app (developer.paypal.com → Apps & Credentials)'),
  PAYPAL_CLIENT_SECRET: z.string().min(1, 'must be the secret of your PayPal REST app'),
  PAYPAL_MODE: z.enum(['sandbox', 'live']).default('sandbox'),
  PAYPAL_WEBHOOK_ID: z.string().min(1, "must be the id PayPal shows for your webhook (Apps & Credentials → your app → Webhooks)"),
  PAYPAL_API_URL: apiUrl.optional(),
  // Exact hostnames (SPEC): the default depends on PAYPAL_MODE, so it is applied in loadConfig.
  PAYPAL_CERT_HOSTS: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v.split(',').map((h) => normaliseHost(h.trim())).filter((h) => h.length > 0)))
    .refine((hosts) => hosts === undefined || hosts.length > 0, 'must list at least one host, e.g. api.paypal.com,api-m.paypal.com')
    .refine(
      (hosts) => hosts === undefined || hosts.every((h) => HOSTNAME.test(h) || h === '::1'),
      'must list exact hostnames (e.g. api.paypal.com); a suffix such as .paypal.com is no longer a wildcard',
    ),
  PAYPAL_CERT_CA_FILE: optionalString,
  PAYPAL_TIMEOUT_MS: positiveInt(10_000),
  // Three days, PayPal's retry horizon: whether a retried delivery carries a fresh transmission time is not
  // documented, and rejecting a late retry would lose the event. Replays are harmless (event-id dedupe, fetch-on-notify).
  WEBHOOK_MAX_AGE_SECONDS: positiveInt(259_200),
  PUBLIC_URL: httpUrl,
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  // Whose X-Forwarded-For is believed: per-IP rate limits count the forwarded address only from these peers.
  TRUST_PROXY: z
    .string()
    .default('127.0.0.1,::1')
    .transform((v) => v.split(',').map((a) => a.trim()).filter((a) => a.length > 0))
    .refine((list) => trustsNoProxy(list) || (list.length > 0 && list.every(isAddressOrCidr)), {
      message: 'must be a comma-separated list of proxy addresses or CIDR ranges (e.g. 127.0.0.1,::1), or none to trust no proxy',
    })
    .transform((list): string[] | false => (trustsNoProxy(list) ? false : list)),
  DATABASE_PATH: z.string().min(1).default('./data/concierge.db'),
  TIERS_FILE: z.string().min(1).default('./tiers.yaml'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MARKETPLACE_API_URL: apiUrl.optional(),
  MARKETPLACE_API_KEY: optionalString,
  BACKUP_DIR: z.string().min(1).default('./data/backups'),
  BACKUP_RETENTION: positiveInt(14),
  // Processed webhook bodies hold buyers' names and e-mail addresses: emptied after this many days (ids stay for dedupe).
  WEBHOOK_BODY_RETENTION_DAYS: positiveInt(90),
  // Done jobs are history only (audit entries keep what happened); about four rows per webhook, so days, not months.
  DONE_JOB_RETENTION_DAYS: positiveInt(7),
  METRICS_TOKEN: optionalString,
  // Keys the serials at rest (store/serial-vault.ts); unset: a key file next to the database (store/serial-key.ts).
  SERIAL_SECRET: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return null;
      const secret = parseSerialSecret(v);
      if (typeof secret === 'string') {
        ctx.addIssue({ code: 'custom', message: secret });
        return z.NEVER;
      }
      return secret;
    }),
  // Demo and tests only: a file holding how many milliseconds the service's clock runs ahead (see src/clock.ts).
  CLOCK_OFFSET_FILE: optionalString,
  JOB_CONCURRENCY: positiveInt(4),
  // How often reconciliation runs by itself (PayPal drift, missed webhooks, Discord roles); 0 turns the schedule off.
  RECONCILE_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(10_080, 'must be at most 10080 (a week)').default(60),
  JOB_LEASE_SECONDS: z.coerce.number().int().min(1).max(30, 'must be at most 30 (SPEC: a job lease is at most 30 s)').default(30),
});

type Env = z.infer<typeof envSchema>;

export interface Config {
  discord: { token: string; guildId: string; auditChannelId: string; apiUrl: string };
  paypal: {
    clientId: string;
    clientSecret: string;
    mode: 'sandbox' | 'live';
    webhookId: string;
    apiUrl: string;
    certHosts: string[];
    /** PAYPAL_CERT_CA_FILE: an extra trusted root for webhook signing certificates, read at start. */
    certCa: { file: string; pem: string } | null;
    timeoutMs: number;
  };
  webhook: { maxAgeSeconds: number };
  http: { host: string; port: number; publicUrl: string };
  /** Proxies whose X-Forwarded-For is believed (Fastify's trustProxy); false: none, the peer is the client. */
  trustProxy: string[] | false;
  databasePath: string;
  tiersFile: string;
  logLevel: Env['LOG_LEVEL'];
  marketplace: { url: string; key: string } | null;
  backup: { dir: string; retention: number };
  /** How long the store keeps processed webhook bodies and done jobs (app/retention.ts). */
  retention: { webhookBodyDays: number; doneJobDays: number };
  metricsToken: string | null;
  /** SERIAL_SECRET: the key serials are kept under; null: Concierge keeps one in a key file next to the database. */
  serialSecret: Buffer | null;
  /** Demo and tests only (`npm run demo` fast-forwards time through it); null in production. */
  clockOffsetFile: string | null;
  jobs: { concurrency: number; leaseMs: number };
  /** Scheduled reconciliation; null: off (the CLI and /admin reconcile still run it). */
  reconcile: { intervalMs: number } | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration is invalid (fix these in the environment or .env, see .env.example):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const PAYPAL_HOSTS = { sandbox: 'https://api-m.sandbox.paypal.com', live: 'https://api-m.paypal.com' } as const;
/** The hosts PayPal serves webhook signing certificates from, per mode (SPEC "Webhook certificates"). */
const PAYPAL_CERT_HOSTS = { sandbox: ['api.sandbox.paypal.com', 'api-m.sandbox.paypal.com'], live: ['api.paypal.com', 'api-m.paypal.com'] } as const;

/** Parses the environment into a Config, or throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Blank (or whitespace-only) values in .env files mean "not set", so defaults apply to them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  // Cross-variable checks run on the raw values so they are reported together with every other problem.
  const problems: string[] = [];
  if ((cleaned['MARKETPLACE_API_URL'] === undefined) !== (cleaned['MARKETPLACE_API_KEY'] === undefined)) {
    problems.push('MARKETPLACE_API_URL and MARKETPLACE_API_KEY: set both to enable marketplace sync, or neither to turn it off');
  }
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.');
      problems.push(`${name}: ${issue.code === 'invalid_type' && cleaned[name] === undefined ? 'is missing' : issue.message}`);
    }
  }
  const certCa = readCertCa(cleaned['PAYPAL_CERT_CA_FILE'], problems);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;

  return {
    discord: { token: e.DISCORD_TOKEN, guildId: e.DISCORD_GUILD_ID, auditChannelId: e.DISCORD_AUDIT_CHANNEL_ID, apiUrl: e.DISCORD_API_URL },
    paypal: {
      clientId: e.PAYPAL_CLIENT_ID,
      clientSecret: e.PAYPAL_CLIENT_SECRET,
      mode: e.PAYPAL_MODE,
      webhookId: e.PAYPAL_WEBHOOK_ID,
      apiUrl: e.PAYPAL_API_URL ?? PAYPAL_HOSTS[e.PAYPAL_MODE],
      certHosts: e.PAYPAL_CERT_HOSTS ?? [...PAYPAL_CERT_HOSTS[e.PAYPAL_MODE]],
      certCa,
      timeoutMs: e.PAYPAL_TIMEOUT_MS,
    },
    webhook: { maxAgeSeconds: e.WEBHOOK_MAX_AGE_SECONDS },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT, publicUrl: e.PUBLIC_URL },
    trustProxy: e.TRUST_PROXY,
    databasePath: e.DATABASE_PATH,
    tiersFile: e.TIERS_FILE,
    logLevel: e.LOG_LEVEL,
    marketplace: e.MARKETPLACE_API_URL !== undefined && e.MARKETPLACE_API_KEY !== null ? { url: e.MARKETPLACE_API_URL, key: e.MARKETPLACE_API_KEY } : null,
    backup: { dir: e.BACKUP_DIR, retention: e.BACKUP_RETENTION },
    retention: { webhookBodyDays: e.WEBHOOK_BODY_RETENTION_DAYS, doneJobDays: e.DONE_JOB_RETENTION_DAYS },
    metricsToken: e.METRICS_TOKEN,
    serialSecret: e.SERIAL_SECRET,
    clockOffsetFile: e.CLOCK_OFFSET_FILE,
    jobs: { concurrency: e.JOB_CONCURRENCY, leaseMs: e.JOB_LEASE_SECONDS * 1000 },
    reconcile: e.RECONCILE_INTERVAL_MINUTES === 0 ? null : { intervalMs: e.RECONCILE_INTERVAL_MINUTES * 60_000 },
  };
}

/** Reads PAYPAL_CERT_CA_FILE once, so a missing or garbled file fails the start instead of every webhook. */
function readCertCa(file: string | undefined, problems: string[]): { file: string; pem: string } | null {
  if (file === undefined) return null;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`PAYPAL_CERT_CA_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return null;
  }
  try {
    parsePemCertificates(pem);
  } catch (err) {
    problems.push(`PAYPAL_CERT_CA_FILE: ${file} is not a PEM certificate file (${err instanceof Error ? err.message : String(err)})`);
    return null;
  }
  return { file, pem };
}

/**
 * SERIAL_SECRET, and the key file's content (store/serial-key.ts): 64+ hex
 * characters, or base64 (standard or URL-safe) of 32+ bytes. A string of hex
 * digits is read as hex. Returns the problem as text, for the error that
 * names the variable or the file.
 */
export function parseSerialSecret(text: string): Buffer | string {
  const value = text.trim();
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) {
    return value.length >= SERIAL_SECRET_MIN_BYTES * 2 ? Buffer.from(value, 'hex') : `must be at least ${SERIAL_SECRET_MIN_BYTES} bytes (${SERIAL_SECRET_MIN_BYTES * 2} hex characters); generate one with: openssl rand -hex 32`;
  }
  const b64 = value.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'must be hex or base64; generate one with: openssl rand -hex 32';
  const bytes = Buffer.from(b64, 'base64');
  // Node's decoder skips what it cannot read; a secret that does not round-trip was mistyped.
  if (bytes.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) return 'is not valid base64; generate one with: openssl rand -hex 32';
  return bytes.length >= SERIAL_SECRET_MIN_BYTES ? bytes : `must be at least ${SERIAL_SECRET_MIN_BYTES} bytes (base64 of ${bytes.length} bytes given); generate one with: openssl rand -hex 32`;
}

/** For commands that need only the database (`concierge migrate`): DATABASE_PATH with its default. */
export function loadDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  const value = env['DATABASE_PATH'];
  return value === undefined || value.trim() === '' ? './data/concierge.db' : value;
}

/**
 * For `concierge backup` and `restore`, which touch only storage (and must
 * work on a machine whose Discord or PayPal settings are not there yet):
 * DATABASE_PATH, BACKUP_DIR and BACKUP_RETENTION, validated as loadConfig does.
 */
export function loadStorageConfig(env: NodeJS.ProcessEnv = process.env): { databasePath: string; backup: { dir: string; retention: number } } {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.pick({ DATABASE_PATH: true, BACKUP_DIR: true, BACKUP_RETENTION: true }).safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return { databasePath: parsed.data.DATABASE_PATH, backup: { dir: parsed.data.BACKUP_DIR, retention: parsed.data.BACKUP_RETENTION } };
}

/** Reads .env into process.env when present; variables already set win (Node's loadEnvFile keeps them). */
export function loadDotEnv(path = '.env'): void {
  try {
    process.loadEnvFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
