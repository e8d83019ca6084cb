import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../src/config.ts';

const CA_FILE = fileURLToPath(new URL('../../src/stand-ins/tls/ca.pem', import.meta.url));
const NOT_PEM_FILE = fileURLToPath(new URL('../fixtures/tiers.yaml', import.meta.url));

/** The variables without a default: the smallest environment that starts. */
const REQUIRED = {
  DISCORD_TOKEN: 'test-token-000000000000000000000000',
  DISCORD_GUILD_ID: '400000000000000001',
  DISCORD_AUDIT_CHANNEL_ID: '400000000000000002',
  PAYPAL_CLIENT_ID: 'test-client-id',
  PAYPAL_CLIENT_SECRET: 'test-client-secret',
  PAYPAL_WEBHOOK_ID: '1JE4291016473214C',
  PUBLIC_URL: 'https://members.example.com',
} as const;

const DEFAULTS: Config = {
  discord: { token: REQUIRED.DISCORD_TOKEN, guildId: REQUIRED.DISCORD_GUILD_ID, auditChannelId: REQUIRED.DISCORD_AUDIT_CHANNEL_ID, apiUrl: 'https://discord.com/api' },
  paypal: {
    clientId: REQUIRED.PAYPAL_CLIENT_ID,
    clientSecret: REQUIRED.PAYPAL_CLIENT_SECRET,
    mode: 'sandbox',
    webhookId: REQUIRED.PAYPAL_WEBHOOK_ID,
    apiUrl: 'https://api-m.sandbox.paypal.com',
    certHosts: ['api.sandbox.paypal.com', 'api-m.sandbox.paypal.com'],
    certCa: null,
    timeoutMs: 10_000,
  },
  webhook: { maxAgeSeconds: 259_200 },
  http: { host: '127.0.0.1', port: 8080, publicUrl: 'https://members.example.com' },
  trustProxy: ['127.0.0.1', '::1'],
  databasePath: './data/concierge.db',
  tiersFile: './tiers.yaml',
  logLevel: 'info',
  marketplace: null,
  backup: { dir: './data/backups', retention: 14 },
  retention: { webhookBodyDays: 90, doneJobDays: 7 },
  metricsToken: null,
  serialSecret: null,
  clockOffsetFile: null,
  jobs: { concurrency: 4, leaseMs: 30_000 },
  reconcile: { intervalMs: 3_600_000 },
};

const SERIAL_SECRET_HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

/** Every variable of the contract set to a non-default value. */
const FULL = {
  ...REQUIRED,
  DISCORD_API_URL: 'http://127.0.0.1:4001/api/',
  PAYPAL_MODE: 'live',
  PAYPAL_API_URL: 'http://127.0.0.1:4002',
  PAYPAL_CERT_HOSTS: '127.0.0.1, Certs.Example.TEST. ,',
  PAYPAL_TIMEOUT_MS: '2500',
  WEBHOOK_MAX_AGE_SECONDS: '600',
  PUBLIC_URL: 'https://members.example.com/',
  HTTP_HOST: '0.0.0.0',
  HTTP_PORT: '9090',
  TRUST_PROXY: ' 10.0.0.5, 192.168.0.0/16,fd00::/8 ',
  DATABASE_PATH: '/var/lib/concierge/concierge.db',
  TIERS_FILE: '/etc/concierge/tiers.yaml',
  LOG_LEVEL: 'debug',
  MARKETPLACE_API_URL: 'https://market.example.com/api/',
  MARKETPLACE_API_KEY: 'test-marketplace-key',
  BACKUP_DIR: '/var/backups/concierge',
  BACKUP_RETENTION: '30',
  WEBHOOK_BODY_RETENTION_DAYS: '30',
  DONE_JOB_RETENTION_DAYS: '2',
  METRICS_TOKEN: 'test-metrics-token',
  SERIAL_SECRET: SERIAL_SECRET_HEX,
  CLOCK_OFFSET_FILE: '/tmp/concierge-demo/clock-offset',
  JOB_CONCURRENCY: '8',
  RECONCILE_INTERVAL_MINUTES: '0',
};

describe('loadConfig: valid environments', () => {
  const rows: { name: string; env: Record<string, string | undefined>; expected: Config }[] = [
    { name: 'only the required variables → every default', env: { ...REQUIRED }, expected: DEFAULTS },
    {
      name: 'every variable set → nested config, URLs without trailing slash, hosts trimmed and lower-cased',
      env: FULL,
      expected: {
        discord: { ...DEFAULTS.discord, apiUrl: 'http://127.0.0.1:4001/api' },
        paypal: { ...DEFAULTS.paypal, mode: 'live', apiUrl: 'http://127.0.0.1:4002', certHosts: ['127.0.0.1', 'certs.example.test'], timeoutMs: 2500 },
        webhook: { maxAgeSeconds: 600 },
        http: { host: '0.0.0.0', port: 9090, publicUrl: 'https://members.example.com' },
        trustProxy: ['10.0.0.5', '192.168.0.0/16', 'fd00::/8'],
        databasePath: '/var/lib/concierge/concierge.db',
        tiersFile: '/etc/concierge/tiers.yaml',
        logLevel: 'debug',
        marketplace: { url: 'https://market.example.com/api', key: 'test-marketplace-key' },
        backup: { dir: '/var/backups/concierge', retention: 30 },
        retention: { webhookBodyDays: 30, doneJobDays: 2 },
        metricsToken: 'test-metrics-token',
        serialSecret: Buffer.from(SERIAL_SECRET_HEX, 'hex'),
        clockOffsetFile: '/tmp/concierge-demo/clock-offset',
        jobs: { concurrency: 8, leaseMs: 30_000 },
        reconcile: null,
      },
    },
    {
      name: 'PAYPAL_MODE live → the live API by default',
      env: { ...REQUIRED, PAYPAL_MODE: 'live' },
      expected: { ...DEFAULTS, paypal: { ...DEFAULTS.paypal, mode: 'live', apiUrl: 'https://api-m.paypal.com', certHosts: ['api.paypal.com', 'api-m.paypal.com'] } },
    },
    {
      name: 'PAYPAL_MODE sandbox → the sandbox API',
      env: { ...REQUIRED, PAYPAL_MODE: 'sandbox' },
      expected: DEFAULTS,
    },
    {
      name: 'blank values are treated as unset (defaults apply, optional features off)',
      env: {
        ...REQUIRED,
        HTTP_HOST: '',
        HTTP_PORT: '',
        LOG_LEVEL: '',
        PAYPAL_MODE: '',
        PAYPAL_API_URL: '',
        PAYPAL_CERT_HOSTS: '',
        DATABASE_PATH: '',
        TIERS_FILE: '',
        BACKUP_RETENTION: '',
        MARKETPLACE_API_URL: '',
        MARKETPLACE_API_KEY: '',
        METRICS_TOKEN: '',
        SERIAL_SECRET: '',
        UNRELATED: undefined,
      },
      expected: DEFAULTS,
    },
    {
      name: 'PAYPAL_CERT_CA_FILE → its PEM is read once, at load',
      env: { ...REQUIRED, PAYPAL_CERT_CA_FILE: CA_FILE },
      expected: { ...DEFAULTS, paypal: { ...DEFAULTS.paypal, certCa: { file: CA_FILE, pem: readFileSync(CA_FILE, 'utf8') } } },
    },
    { name: 'a whitespace-only METRICS_TOKEN → no token', env: { ...REQUIRED, METRICS_TOKEN: '   ' }, expected: DEFAULTS },
    { name: 'HTTP_PORT 0 (any free port) is allowed', env: { ...REQUIRED, HTTP_PORT: '0' }, expected: { ...DEFAULTS, http: { ...DEFAULTS.http, port: 0 } } },
    {
      name: 'plain http is accepted for loopback API hosts (local stand-ins)',
      env: { ...REQUIRED, DISCORD_API_URL: 'http://localhost:4001/api', PAYPAL_API_URL: 'http://[::1]:4002', MARKETPLACE_API_URL: 'http://127.8.9.10:4003', MARKETPLACE_API_KEY: 'k' },
      expected: {
        ...DEFAULTS,
        discord: { ...DEFAULTS.discord, apiUrl: 'http://localhost:4001/api' },
        paypal: { ...DEFAULTS.paypal, apiUrl: 'http://[::1]:4002' },
        marketplace: { url: 'http://127.8.9.10:4003', key: 'k' },
      },
    },
    { name: 'TRUST_PROXY none → no proxy trusted', env: { ...REQUIRED, TRUST_PROXY: 'none' }, expected: { ...DEFAULTS, trustProxy: false } },
    { name: 'TRUST_PROXY false → no proxy trusted', env: { ...REQUIRED, TRUST_PROXY: 'FALSE' }, expected: { ...DEFAULTS, trustProxy: false } },
    {
      name: 'SERIAL_SECRET as base64 (standard or URL-safe) of 32+ bytes',
      env: { ...REQUIRED, SERIAL_SECRET: Buffer.alloc(40, 0xfb).toString('base64url') },
      expected: { ...DEFAULTS, serialSecret: Buffer.alloc(40, 0xfb) },
    },
    { name: 'unrelated variables are ignored', env: { ...REQUIRED, PATH: '/usr/bin', NODE_ENV: 'production' }, expected: DEFAULTS },
  ];
  it.each(rows)('$name', ({ env, expected }) => {
    expect(loadConfig(env)).toEqual(expected);
  });
});

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const without = (...names: (keyof typeof REQUIRED)[]) => Object.fromEntries(Object.entries(REQUIRED).filter(([k]) => !names.includes(k as keyof typeof REQUIRED)));

describe('loadConfig: a bad environment names every bad variable', () => {
  it('three missing required variables and a bad HTTP_PORT → one error naming all four', () => {
    const env = { ...without('DISCORD_TOKEN', 'PAYPAL_CLIENT_SECRET', 'PUBLIC_URL'), HTTP_PORT: 'eighty' };
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    for (const name of ['DISCORD_TOKEN', 'PAYPAL_CLIENT_SECRET', 'PUBLIC_URL', 'HTTP_PORT']) {
      expect(error.problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
      expect(error.message).toContain(name);
    }
    expect(error.problems.filter((p) => p.endsWith('is missing'))).toHaveLength(3);
  });

  it('an empty environment names every required variable as missing', () => {
    const problems = problemsOf({});
    expect(problems.sort()).toEqual(Object.keys(REQUIRED).map((name) => `${name}: is missing`).sort());
  });

  const rows: { name: string; env: Record<string, string>; names: string[] }[] = [
    { name: 'HTTP_PORT out of range', env: { HTTP_PORT: '70000' }, names: ['HTTP_PORT'] },
    { name: 'HTTP_PORT negative', env: { HTTP_PORT: '-1' }, names: ['HTTP_PORT'] },
    { name: 'guild id not a snowflake', env: { DISCORD_GUILD_ID: 'my-server' }, names: ['DISCORD_GUILD_ID'] },
    { name: 'token too short', env: { DISCORD_TOKEN: 'abc' }, names: ['DISCORD_TOKEN'] },
    { name: 'unknown PAYPAL_MODE', env: { PAYPAL_MODE: 'production' }, names: ['PAYPAL_MODE'] },
    { name: 'unknown LOG_LEVEL', env: { LOG_LEVEL: 'verbose' }, names: ['LOG_LEVEL'] },
    { name: 'PUBLIC_URL not a URL', env: { PUBLIC_URL: 'members.example.com' }, names: ['PUBLIC_URL'] },
    { name: 'PUBLIC_URL not http(s)', env: { PUBLIC_URL: 'ftp://members.example.com' }, names: ['PUBLIC_URL'] },
    { name: 'PAYPAL_CERT_HOSTS with no host', env: { PAYPAL_CERT_HOSTS: ' , ' }, names: ['PAYPAL_CERT_HOSTS'] },
    { name: 'PAYPAL_CERT_HOSTS with a suffix entry (no wildcards any more)', env: { PAYPAL_CERT_HOSTS: '.paypal.com' }, names: ['PAYPAL_CERT_HOSTS'] },
    { name: 'PAYPAL_CERT_HOSTS with a port', env: { PAYPAL_CERT_HOSTS: 'api.paypal.com:8443' }, names: ['PAYPAL_CERT_HOSTS'] },
    { name: 'PAYPAL_CERT_CA_FILE missing', env: { PAYPAL_CERT_CA_FILE: '/nonexistent/ca.pem' }, names: ['PAYPAL_CERT_CA_FILE', 'ENOENT'] },
    { name: 'PAYPAL_CERT_CA_FILE not PEM', env: { PAYPAL_CERT_CA_FILE: NOT_PEM_FILE }, names: ['PAYPAL_CERT_CA_FILE', 'not a PEM certificate file'] },
    { name: 'BACKUP_RETENTION zero', env: { BACKUP_RETENTION: '0' }, names: ['BACKUP_RETENTION'] },
    { name: 'PAYPAL_TIMEOUT_MS not a number', env: { PAYPAL_TIMEOUT_MS: 'soon' }, names: ['PAYPAL_TIMEOUT_MS'] },
    { name: 'SERIAL_SECRET too short (hex)', env: { SERIAL_SECRET: 'abcdef0123456789' }, names: ['SERIAL_SECRET', 'at least 32 bytes'] },
    { name: 'SERIAL_SECRET too short (base64)', env: { SERIAL_SECRET: Buffer.alloc(16, 7).toString('base64') }, names: ['SERIAL_SECRET', 'at least 32 bytes'] },
    { name: 'SERIAL_SECRET neither hex nor base64', env: { SERIAL_SECRET: 'correct horse battery staple!' }, names: ['SERIAL_SECRET', 'hex or base64'] },
    { name: 'marketplace URL without a key', env: { MARKETPLACE_API_URL: 'https://market.example.com' }, names: ['MARKETPLACE_API_URL', 'MARKETPLACE_API_KEY'] },
    { name: 'marketplace key without a URL', env: { MARKETPLACE_API_KEY: 'test-marketplace-key' }, names: ['MARKETPLACE_API_URL', 'MARKETPLACE_API_KEY'] },
    { name: 'marketplace URL with a blank key', env: { MARKETPLACE_API_URL: 'https://market.example.com', MARKETPLACE_API_KEY: '  ' }, names: ['MARKETPLACE_API_KEY'] },
    { name: 'TRUST_PROXY a host name', env: { TRUST_PROXY: 'proxy.example.com' }, names: ['TRUST_PROXY'] },
    { name: 'TRUST_PROXY a CIDR prefix too long', env: { TRUST_PROXY: '10.0.0.0/33' }, names: ['TRUST_PROXY'] },
    { name: 'TRUST_PROXY none mixed with addresses', env: { TRUST_PROXY: 'none,10.0.0.1' }, names: ['TRUST_PROXY'] },
  ];
  it.each(rows)('$name', ({ env, names }) => {
    const text = problemsOf({ ...REQUIRED, ...env }).join('\n');
    for (const name of names) expect(text).toContain(name);
  });

  // These URLs carry the bot token, the PayPal secret and the marketplace key: a typo'd http:// would send them in clear.
  const HTTPS_ONLY = 'must be https:// unless it points at this machine (loopback); a typo would send secrets in clear';
  const cleartext: { name: string; env: Record<string, string>; variable: string }[] = [
    { name: 'DISCORD_API_URL over http', env: { DISCORD_API_URL: 'http://discord.com/api' }, variable: 'DISCORD_API_URL' },
    { name: 'PAYPAL_API_URL over http', env: { PAYPAL_API_URL: 'http://api-m.paypal.com' }, variable: 'PAYPAL_API_URL' },
    { name: 'MARKETPLACE_API_URL over http', env: { MARKETPLACE_API_URL: 'http://market.example.com', MARKETPLACE_API_KEY: 'k' }, variable: 'MARKETPLACE_API_URL' },
    { name: 'a host that only starts like loopback', env: { PAYPAL_API_URL: 'http://127.0.0.1.example.com' }, variable: 'PAYPAL_API_URL' },
    { name: 'a subdomain named localhost', env: { DISCORD_API_URL: 'http://localhost.example.com/api' }, variable: 'DISCORD_API_URL' },
    { name: 'a private (not loopback) address', env: { PAYPAL_API_URL: 'http://10.0.0.7:8080' }, variable: 'PAYPAL_API_URL' },
  ];
  it.each(cleartext)('$name → names the variable and why', ({ env, variable }) => {
    expect(problemsOf({ ...REQUIRED, ...env })).toEqual([`${variable}: ${HTTPS_ONLY}`]);
  });

  // BUG (src/config.ts): the marketplace cross-check runs only after the
  // schema parse succeeded, so with any other bad variable the half-configured
  // marketplace is not named; the operator learns of it only on the next start.
  it('a half-configured marketplace is named together with the other bad variables', () => {
    const text = problemsOf({ ...without('DISCORD_TOKEN'), MARKETPLACE_API_URL: 'https://market.example.com' }).join('\n');
    expect(text).toContain('DISCORD_TOKEN');
    expect(text).toContain('MARKETPLACE_API_KEY');
  });
});
