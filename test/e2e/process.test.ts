import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/demo/stage.ts';
import type { DiscordStandIn } from '../../src/stand-ins/discord/server.ts';
import { createPaypalStandIn, type PaypalStandIn } from '../../src/stand-ins/paypal/server.ts';
import { MEMBER_ID, TEST_WEBHOOK_ID, createTestDiscord, discordEnv, testEnv } from '../helpers/harness.ts';
import { startServiceProcess, waitHealthy } from '../helpers/service-process.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/** The real `npm start` process: start-up errors, and an acknowledged event surviving SIGKILL. */

let paypal: PaypalStandIn;
let discord: DiscordStandIn;
let dir: string;

beforeAll(async () => {
  paypal = await createPaypalStandIn();
  discord = await createTestDiscord();
  dir = mkdtempSync(join(tmpdir(), 'concierge-proc-'));
});
afterAll(async () => {
  await paypal.close();
  await discord.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The service in a child process, its working directory the test's temp dir unless given. */
const startProcess = (env: NodeJS.ProcessEnv, cwd = dir) => startServiceProcess(env, cwd);

describe('start-up', () => {
  it('exits non-zero naming every bad variable, without a stack trace', async () => {
    const env = testEnv(paypal.url, join(dir, 'bad.db'), { HTTP_PORT: 'eighty', PAYPAL_MODE: 'production' });
    delete env['DISCORD_TOKEN'];
    delete env['PAYPAL_WEBHOOK_ID'];
    const p = startProcess(env);
    expect(await p.exited).not.toBe(0);
    const out = p.output();
    for (const name of ['DISCORD_TOKEN', 'PAYPAL_WEBHOOK_ID', 'HTTP_PORT', 'PAYPAL_MODE']) expect(out).toContain(name);
    expect(out).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  });

  it('exits non-zero naming the tiers file and its problem', async () => {
    const env = testEnv(paypal.url, join(dir, 'bad2.db'), { TIERS_FILE: join(dir, 'missing-tiers.yaml') });
    const p = startProcess(env);
    expect(await p.exited).not.toBe(0);
    expect(p.output()).toContain('missing-tiers.yaml');
  });
});

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('.env', { timeout: 90_000 }, () => {
  it('npm start reads .env from its working directory, and the environment wins over it', async () => {
    const [dotenvPort, envPort] = [await freePort(), await freePort()];
    const cwd = join(dir, 'with-dotenv');
    mkdirSync(cwd);
    const dotenv = testEnv(paypal.url, './from-dotenv.db', { ...discordEnv(discord), HTTP_PORT: String(dotenvPort), LOG_LEVEL: 'warn' });
    writeFileSync(join(cwd, '.env'), Object.entries(dotenv).map(([k, v]) => `${k}=${v ?? ''}\n`).join(''), { mode: 0o600 });
    // Only HTTP_PORT in the environment: everything else, the database path included, comes from .env.
    const p = startProcess({ HTTP_PORT: String(envPort) }, cwd);
    try {
      await waitHealthy(`http://127.0.0.1:${envPort}`, p);
      expect(existsSync(join(cwd, 'from-dotenv.db'))).toBe(true);
      const dotenvAnswered = await fetch(`http://127.0.0.1:${dotenvPort}/healthz`).then(
        () => true,
        () => false,
      );
      expect(dotenvAnswered).toBe(false);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
});

describe('file permissions', { timeout: 90_000 }, () => {
  it('under umask 022 the data directory is created 0700 and the database files are 0600, even a file that existed as 0644', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'private-data');
    const dbPath = join(dataDir, 'concierge.db');
    const p = startProcess(testEnv(paypal.url, dbPath, { ...discordEnv(discord), HTTP_PORT: String(port), LOG_LEVEL: 'warn' }));
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitHealthy(base, p);
      // Store something, so the WAL files exist and hold what they are for: a raw webhook body.
      const s = paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: MEMBER_ID, status: 'ACTIVE' });
      expect((await paypal.deliver(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id), { url: `${base}/webhooks/paypal`, webhookId: TEST_WEBHOOK_ID })).status).toBe(200);
      expect(modeOf(dataDir)).toBe('700');
      for (const file of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) expect([file, modeOf(file)]).toEqual([file, '600']);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }

    // A database file made by another path (a copy, an older version) with a looser mode is restricted when opened.
    const copiedDir = join(dir, 'copied-data');
    mkdirSync(copiedDir, { mode: 0o755 });
    const copied = join(copiedDir, 'concierge.db');
    writeFileSync(copied, '', { mode: 0o644 });
    expect(modeOf(copied)).toBe('644');
    const again = startProcess(testEnv(paypal.url, copied, { ...discordEnv(discord), HTTP_PORT: String(port), LOG_LEVEL: 'warn' }));
    try {
      await waitHealthy(base, again);
      expect(modeOf(copied)).toBe('600');
      for (const file of [`${copied}-wal`, `${copied}-shm`]) if (existsSync(file)) expect([file, modeOf(file)]).toEqual([file, '600']);
      expect(modeOf(copiedDir)).toBe('755'); // an existing directory is the operator's
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });
});

// Each test starts the real service as a child process (twice for the restart): minutes of margin, not a timing claim.
describe('durability', { timeout: 90_000 }, () => {
  /**
   * A database of its own, the default 30 s job lease (the restarted service does not wait for it: the
   * instance lock tells it the claim's process is gone), and a member whose Titan subscription PayPal has activated.
   */
  async function killScenario(name: string, memberId: string) {
    const port = await freePort();
    const dbPath = join(dir, `${name}.db`);
    const env = testEnv(paypal.url, dbPath, { ...discordEnv(discord), HTTP_PORT: String(port), LOG_LEVEL: 'warn' });
    discord.addMember(memberId);
    const s = paypal.createSubscription({ planId: PLAN_IDS.titanMonthly, customId: memberId });
    paypal.approve(s.id);
    const rolePut = new RegExp(`^/guilds/\\d+/members/${memberId}/roles/${ROLE_IDS.titan}$`);
    return { env, dbPath, base: `http://127.0.0.1:${port}`, s, rolePut };
  }

  it('SIGKILL after the acknowledgement but before Discord was called: within 5 s of the restart the role is applied, once', async () => {
    const memberId = '300000000000000777';
    const { env, base, s, rolePut } = await killScenario('kill-before-discord', memberId);
    // PayPal is slow, so the process dies while the job is still reading it: Discord was never called.
    const slow = paypal.fault({ method: 'GET', path: new RegExp(`/v1/billing/subscriptions/${s.id}`), delayMs: 1000 });
    const first = startProcess(env);
    await waitHealthy(base, first);
    const res = await paypal.deliver(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id), { url: `${base}/webhooks/paypal`, webhookId: TEST_WEBHOOK_ID });
    expect(res.status).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(discord.callsTo('PUT', rolePut)).toBe(0);
    slow.clear();

    const second = startProcess(env);
    try {
      await waitHealthy(base, second);
      const restarted = Date.now();
      // The dead process's lease (30 s) ends at start: the job runs again at once and the role lands once.
      while (discord.callsTo('PUT', rolePut) === 0 && Date.now() < restarted + 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(Date.now() - restarted).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(discord.callsTo('PUT', rolePut)).toBe(1);
      expect(discord.member(memberId)).toContain(ROLE_IDS.titan);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('SIGKILL after Discord applied the role but before the job was marked done: after restart the job runs again and the role is added once', async () => {
    const memberId = '300000000000000778';
    const { env, dbPath, base, s, rolePut } = await killScenario('kill-after-discord', memberId);
    // Discord adds the role at once and holds its answer: the process dies waiting for it, before it can mark the job done.
    const held = discord.fault({ method: 'PUT', path: rolePut, afterEffect: true, delayMs: 60_000, times: 1 });
    const roleSync = (): { status: string; attempts: number } | undefined => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return db.prepare(`SELECT status, attempts FROM jobs WHERE kind = 'role-sync' AND dedupe_key = ?`).get(memberId) as { status: string; attempts: number } | undefined;
      } finally {
        db.close();
      }
    };
    const first = startProcess(env);
    try {
      await waitHealthy(base, first);
      const res = await paypal.deliver(paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id), { url: `${base}/webhooks/paypal`, webhookId: TEST_WEBHOOK_ID });
      expect(res.status).toBe(200);
      const deadline = Date.now() + 20_000;
      while (!(discord.member(memberId) ?? []).includes(ROLE_IDS.titan) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    expect(held.hits).toBe(1);
    expect(discord.member(memberId)).toContain(ROLE_IDS.titan);
    expect(roleSync()).toEqual({ status: 'running', attempts: 1 });

    const second = startProcess(env);
    try {
      await waitHealthy(base, second);
      const restarted = Date.now();
      // The dead process's lease ends at start and the job runs again: it finds the role there and adds nothing.
      while (roleSync()?.status !== 'done' && Date.now() < restarted + 15_000) await new Promise((r) => setTimeout(r, 50));
      expect(Date.now() - restarted).toBeLessThan(5_000);
      expect(roleSync()).toEqual({ status: 'done', attempts: 2 });
      expect(discord.callsTo('PUT', rolePut)).toBe(1);
      expect(discord.member(memberId)).toEqual([ROLE_IDS.titan]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 150_000); // two cold starts of the real process, each allowed 40 s on a loaded machine

  it('an acknowledged event is in the database file after SIGKILL right after the reply', async () => {
    const port = await freePort();
    const dbPath = join(dir, 'crash.db');
    const p = startProcess(testEnv(paypal.url, dbPath, { ...discordEnv(discord), HTTP_PORT: String(port), LOG_LEVEL: 'warn' }));
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base, p);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const s = paypal.createSubscription({ planId: PLAN_IDS.eliteMonthly, customId: MEMBER_ID, status: 'ACTIVE' });
      const event = paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', s.id);
      const res = await paypal.deliver(event, { url: `${base}/webhooks/paypal`, webhookId: TEST_WEBHOOK_ID });
      if (res.status === 200) acked.push(event.id);
      if (i === 19) p.child.kill('SIGKILL');
    }
    await p.exited;
    expect(acked).toHaveLength(20);
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare(`SELECT id FROM webhook_events`).all() as { id: string }[];
      const stored = new Set(rows.map((r) => r.id));
      for (const id of acked) expect(stored.has(id), id).toBe(true);
    } finally {
      db.close();
    }
  });
});
