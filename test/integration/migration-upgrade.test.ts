import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { claimJob } from '../../src/jobs/queue.ts';
import { openConnection } from '../../src/store/connection.ts';
import { MIGRATIONS_DIR, openStore } from '../../src/store/db.ts';
import { getSubscription } from '../../src/store/subscription-repo.ts';

/**
 * Upgrading a database made by each earlier release: the migrations up to
 * 0000, 0001, … applied (drizzle's migrator on a copy of the folder that
 * ends there), rows written as that release wrote them, then openStore
 * migrates to head as every start does. Every row survives, and the data
 * migrations do what their comments say for a database that had not run
 * them yet (0004: paid plan of a subscription already counted; 0006: DM jobs'
 * stored attempts).
 */

interface JournalEntry {
  idx: number;
  tag: string;
  when: number;
}
const JOURNAL = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: JournalEntry[] } & Record<string, unknown>;
const tags = JOURNAL.entries.map((e) => e.tag);
const applied = (upTo: number, tag: string) => tags.indexOf(tag) < upTo;

const dir = mkdtempSync(join(tmpdir(), 'concierge-upgrade-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A migrations folder holding only the first `count` migrations, as the release that shipped them had it. */
function migrationsUpTo(count: number): string {
  const folder = join(dir, `migrations-${count}`);
  mkdirSync(join(folder, 'meta'), { recursive: true });
  const entries = JOURNAL.entries.slice(0, count);
  for (const e of entries) copyFileSync(join(MIGRATIONS_DIR, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify({ ...JOURNAL, entries }));
  return folder;
}

const T = Date.parse('2025-01-10T12:00:00Z');
const DAY = 86_400_000;
const M1 = '300000000000000001';
const M2 = '300000000000000002';

/** Rows as an older release wrote them: only columns that exist after the first `count` migrations. */
function seed(path: string, count: number): void {
  const sqlite = openConnection(path);
  migrate(drizzle(sqlite), { migrationsFolder: migrationsUpTo(count) });
  const run = (sql: string, ...params: unknown[]) => sqlite.prepare(sql).run(...params);
  run(`INSERT INTO members (discord_user_id, entitled_tier, entitled_until, entitled_source, created_at, updated_at) VALUES (?, 'legendary', ?, 'subscription:I-ACTIVE0000001', ?, ?)`, M1, T + 20 * DAY, T, T);
  run(`INSERT INTO members (discord_user_id, created_at, updated_at) VALUES (?, ?, ?)`, M2, T, T);
  const sub = `INSERT INTO subscriptions (id, member_id, plan_id, tier_key, state, paypal_status, custom_id, interval_unit, interval_count, paid_through, access_until, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'MONTH', 1, ?, ?, ?, ?)`;
  run(sub, 'I-ACTIVE0000001', M1, 'P-LEGENDARY0MONTHLY0000001', 'legendary', 'active', 'ACTIVE', M1, T + 20 * DAY, null, T - 10 * DAY, T);
  run(sub, 'I-CANCELLED0001', M2, 'P-ELITE0MONTHLY00000000001', 'elite', 'cancelled', 'CANCELLED', M2, T - DAY, T - DAY, T - 40 * DAY, T);
  run(sub, 'I-PENDING000001', M2, 'P-TITAN0MONTHLY00000000001', 'titan', 'pending', 'APPROVAL_PENDING', M2, null, null, T, T);
  if (applied(count, '0002_member_commands')) run(`UPDATE subscriptions SET approve_url = 'https://www.sandbox.paypal.com/webapps/billing/subscriptions?ba_token=BA-1' WHERE id = 'I-PENDING000001'`);
  if (applied(count, '0002_member_commands') && !applied(count, '0004_paid_plans')) run(`UPDATE subscriptions SET carry_tier_key = 'titan', carry_until = ? WHERE id = 'I-ACTIVE0000001'`, T + DAY);
  // Already counted by a release that had 0004: its paid plan is its own, not overwritten.
  if (applied(count, '0004_paid_plans')) run(`UPDATE subscriptions SET paid_plan_id = 'P-ELITE0MONTHLY00000000001', paid_tier_key = 'elite', paid_until = ? WHERE id = 'I-ACTIVE0000001'`, T + 5 * DAY);
  run(`INSERT INTO payments (id, subscription_id, member_id, amount, currency, state, paid_at, event_id, created_at) VALUES ('SALE-1', 'I-ACTIVE0000001', ?, '9.99', 'USD', 'completed', ?, 'WH-1', ?)`, M1, T - 10 * DAY, T);
  run(`INSERT INTO grants (member_id, tier_key, granted_by, reason, starts_at, expires_at, created_at) VALUES (?, 'elite', '200000000000000001', 'contest winner', ?, ?, ?)`, M2, T, T + 30 * DAY, T);
  const job = `INSERT INTO jobs (kind, payload, dedupe_key, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 10, ?, ?, ?)`;
  run(job, 'dm', JSON.stringify({ memberId: M1, kind: 'welcome', tierKey: 'legendary', until: null }), null, 'queued', 0, T, T, T);
  run(job, 'dm', JSON.stringify({ memberId: M2, kind: 'cancelled', tierKey: 'elite', until: T }), null, 'done', 1, T - DAY, T - DAY, T - DAY);
  run(job, 'role-sync', JSON.stringify({ memberId: M2 }), M2, 'queued', 2, T - 1, T, T);
  run(`INSERT INTO webhook_events (id, event_type, resource_id, transmission_id, raw_body, received_at, processed_at, outcome) VALUES ('WH-1', 'PAYMENT.SALE.COMPLETED', 'SALE-1', 'tx-1', '{"id":"WH-1"}', ?, ?, 'applied')`, T, T);
  if (applied(count, '0005_webhook_transmissions')) run(`INSERT INTO webhook_transmissions (transmission_id, body_sha256, received_at) VALUES ('tx-1', ?, ?)`, Buffer.alloc(32, 7), T);
  run(`INSERT INTO audit_entries (at, kind, severity, member_id, message, dedupe_key) VALUES (?, 'entitlement.changed', 'success', ?, '<@${M1}> is now Legendary', 'entitlement:1')`, T, M1);
  sqlite.close();
}

// From each earlier release: 0000 only, 0000–0001, …, up to all but the newest migration.
describe.each(JOURNAL.entries.slice(0, -1).map((e) => ({ count: e.idx + 1, last: e.tag })))('a database at $last', ({ count, last }) => {
  it('migrates to head at start with every row kept and the data migrations it lacked applied', () => {
    const path = join(dir, `at-${last}.db`);
    seed(path, count);
    const store = openStore(path);
    try {
      const q = <R,>(sql: string, ...params: unknown[]) => store.sqlite.prepare(sql).all(...params) as R[];
      expect(q<{ n: number }>('SELECT count(*) AS n FROM __drizzle_migrations')[0]?.n).toBe(JOURNAL.entries.length);
      const counts = Object.fromEntries(['members', 'subscriptions', 'payments', 'grants', 'jobs', 'webhook_events', 'audit_entries'].map((t) => [t, q<{ n: number }>(`SELECT count(*) AS n FROM ${t}`)[0]?.n]));
      expect(counts).toEqual({ members: 2, subscriptions: 3, payments: 1, grants: 1, jobs: 3, webhook_events: 1, audit_entries: 1 });
      expect(q('SELECT count(*) AS n FROM webhook_transmissions')).toEqual([{ n: applied(count, '0005_webhook_transmissions') ? 1 : 0 }]);

      expect(q('SELECT discord_user_id, entitled_tier, entitled_until FROM members ORDER BY discord_user_id')).toEqual([
        { discord_user_id: M1, entitled_tier: 'legendary', entitled_until: T + 20 * DAY },
        { discord_user_id: M2, entitled_tier: null, entitled_until: null },
      ]);
      // Read through the repository, as the service does: every column of head is there.
      expect(getSubscription(store.db, 'I-PENDING000001')).toMatchObject({ state: 'pending', memberId: M2, paidPlanId: null, approveUrl: applied(count, '0002_member_commands') ? expect.stringContaining('ba_token=BA-1') : null });
      const active = getSubscription(store.db, 'I-ACTIVE0000001');
      const cancelled = getSubscription(store.db, 'I-CANCELLED0001');
      expect(active).toMatchObject({ state: 'active', planId: 'P-LEGENDARY0MONTHLY0000001', tierKey: 'legendary', paidThrough: T + 20 * DAY, intervalUnit: 'MONTH' });
      if (applied(count, '0004_paid_plans')) {
        expect(active).toMatchObject({ paidPlanId: 'P-ELITE0MONTHLY00000000001', paidTierKey: 'elite', paidUntil: T + 5 * DAY });
      } else {
        // 0004: a subscription counted before payments were tied to plans keeps its tier until its paid-through.
        expect(active).toMatchObject({ paidPlanId: 'P-LEGENDARY0MONTHLY0000001', paidTierKey: 'legendary', paidUntil: T + 20 * DAY });
      }
      expect(cancelled).toMatchObject({ state: 'cancelled', accessUntil: T - DAY });
      // Written by a release with 0004 without a paid plan (nothing counted): left so.
      const cancelledPaid = applied(count, '0004_paid_plans') ? { paidPlanId: null, paidTierKey: null, paidUntil: null } : { paidPlanId: 'P-ELITE0MONTHLY00000000001', paidTierKey: 'elite', paidUntil: T - DAY };
      expect(cancelled).toMatchObject(cancelledPaid);

      expect(q('SELECT id, subscription_id, amount, currency, state FROM payments')).toEqual([{ id: 'SALE-1', subscription_id: 'I-ACTIVE0000001', amount: '9.99', currency: 'USD', state: 'completed' }]);
      expect(q('SELECT member_id, tier_key, reason, expires_at FROM grants')).toEqual([{ member_id: M2, tier_key: 'elite', reason: 'contest winner', expires_at: T + 30 * DAY }]);
      expect(q('SELECT id, outcome, raw_body FROM webhook_events')).toEqual([{ id: 'WH-1', outcome: 'applied', raw_body: '{"id":"WH-1"}' }]);
      expect(q('SELECT kind, message, dedupe_key FROM audit_entries')).toEqual([{ kind: 'entitlement.changed', message: `<@${M1}> is now Legendary`, dedupe_key: 'entitlement:1' }]);
      // 0006: a DM still queued is held to its declared 8 attempts (the done one is history); other kinds keep theirs.
      expect(q('SELECT kind, status, attempts, max_attempts FROM jobs ORDER BY id')).toEqual([
        { kind: 'dm', status: 'queued', attempts: 0, max_attempts: applied(count, '0006_dm_max_attempts') ? 10 : 8 },
        { kind: 'dm', status: 'done', attempts: 1, max_attempts: 10 },
        { kind: 'role-sync', status: 'queued', attempts: 2, max_attempts: 10 },
      ]);
      // The queue works on the upgraded file: the oldest due job is claimed.
      expect(claimJob(store, { now: T, leaseMs: 30_000, workerId: 'upgrade-test' })?.job).toMatchObject({ kind: 'role-sync', payload: { memberId: M2 }, attempts: 3 });
    } finally {
      store.close();
    }
  });
});
