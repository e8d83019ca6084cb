import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptions } from '../../src/store/schema.ts';
import { runCli } from '../helpers/cli.ts';
import { parseCsv } from '../helpers/csv.ts';
import { discordEnv, startHarness, testEnv, type Harness } from '../helpers/harness.ts';
import { subscribeAndPay } from '../helpers/member-actions.ts';
import { PLAN_IDS, ROLE_IDS } from '../helpers/tiers.ts';

/**
 * `npx concierge reconcile [--dry-run]` and `npx concierge export [--out]` as
 * an operator runs them: a second process on the database of a running
 * service (WAL), against the same stand-ins, with --help and exit codes a
 * script can rely on.
 */

let h: Harness;
let env: Record<string, string>;
let payer: string;
let subscriptionId: string;

beforeAll(async () => {
  h = await startHarness();
  env = Object.fromEntries(
    Object.entries(testEnv(h.paypal.url, h.config.databasePath, discordEnv(h.discord))).filter((e): e is [string, string] => e[1] !== undefined),
  );
  payer = '880000000000000001';
  h.discord.addMember(payer);
  subscriptionId = await subscribeAndPay(h, { memberId: payer, planId: PLAN_IDS.eliteMonthly, roleId: ROLE_IDS.elite, paidAt: h.now() - 1000 });
});
afterAll(() => h.close());

const state = () => h.service.store.db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId)).get()?.state;

// Each command is a child process that transforms TypeScript (tsx): seconds on a busy 2-core machine.
describe('concierge reconcile', { timeout: 90_000 }, () => {
  it('--help names the option and the exit codes', async () => {
    const r = await runCli(['reconcile', '--help'], h.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--dry-run');
    expect(r.stdout).toContain('Exit codes: 0 completed (differences or not), 1 could not complete (nothing revoked), 78 bad configuration.');
  });

  it('while the service runs: --dry-run prints the difference and changes nothing; without it the cancellation is applied', async () => {
    h.paypal.setStatus(subscriptionId, 'CANCELLED');
    const dry = await runCli(['reconcile', '--dry-run'], h.dir, env);
    expect(dry.stderr).not.toContain('did not complete');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^reconcile completed \(dry run, nothing changed\)/);
    expect(dry.stdout).toMatch(new RegExp(`\\npaypal +${subscriptionId} +${payer} +PayPal ACTIVE → CANCELLED; state active → cancelled +would apply what PayPal reports\\n`));
    expect(state()).toBe('active');

    const real = await runCli(['reconcile'], h.dir, env);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(new RegExp(`\\npaypal +${subscriptionId} +${payer} +PayPal ACTIVE → CANCELLED; state active → cancelled +applied what PayPal reports\\n`));
    expect(state()).toBe('cancelled');
  });

  it('exits 1 and revokes nothing when PayPal refuses it', async () => {
    const r = await runCli(['reconcile'], h.dir, { ...env, PAYPAL_CLIENT_SECRET: 'wrong-secret' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('reconcile NOT completed (changes applied)');
    expect(r.stderr).toMatch(/reconcile did not complete: PayPal POST \/v1\/oauth2\/token → 401 .*; nothing was revoked/);
    expect(h.discord.member(payer)).toContain(ROLE_IDS.elite);
  });
});

describe('concierge export', { timeout: 90_000 }, () => {
  it('writes every member to --out (mode 0600) while the service runs', async () => {
    const out = join(h.dir, 'members.csv');
    const r = await runCli(['export', '--out', out], h.dir, { DATABASE_PATH: h.config.databasePath });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^exported \d+ member\(s\) to /);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const rows = parseCsv(readFileSync(out, 'utf8'));
    expect(rows[0]).toEqual(['discord_id', 'tier', 'source', 'state', 'paid_through', 'paypal_subscription_id', 'last_payment']);
    expect(rows.find((row) => row[0] === payer)?.slice(0, 4)).toEqual([payer, 'elite', 'subscription', 'cancelled']);
  });

  it('exits 1 without creating a database where there is none', async () => {
    const missing = join(h.dir, 'nowhere', 'concierge.db');
    const r = await runCli(['export'], h.dir, { DATABASE_PATH: missing });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });
});
