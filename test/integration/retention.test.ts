import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyRetention, retentionPolicy } from '../../src/app/retention.ts';
import { ensureSchedules, SCHEDULE_KEY } from '../../src/app/schedules.ts';
import { DAY_MS } from '../../src/core/time.ts';
import { openStore, type Store } from '../../src/store/db.ts';

/** Retention on a real database: what goes, what stays; and the standing schedules a start queues. */

const T = Date.parse('2025-06-01T12:00:00Z');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function open(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-retention-'));
  const store = openStore(join(dir, 'concierge.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  return store;
}

const POLICY = retentionPolicy({ webhookBodyDays: 90, doneJobDays: 7, webhookMaxAgeSeconds: 259_200 });

function addEvent(store: Store, id: string, receivedAt: number, processed: boolean): void {
  store.sqlite
    .prepare('INSERT INTO webhook_events (id, event_type, transmission_id, raw_body, received_at, processed_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(id, 'BILLING.SUBSCRIPTION.ACTIVATED', `t-${id}`, `{"id":"${id}","payer":"buyer@example.com"}`, receivedAt, processed ? receivedAt + 1000 : null, processed ? 'processed' : 'pending');
}

function addJob(store: Store, status: string, at: number, kind = 'role-sync'): void {
  store.sqlite
    .prepare('INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES (?, ?, ?, 1, 10, ?, ?, ?)')
    .run(kind, '{"memberId":"1"}', status, at, at, at);
}

const body = (store: Store, id: string) => (store.sqlite.prepare('SELECT raw_body AS b FROM webhook_events WHERE id = ?').get(id) as { b: string } | undefined)?.b;
const count = (store: Store, sql: string) => (store.sqlite.prepare(sql).get() as { n: number }).n;

describe('applyRetention', () => {
  it('empties processed bodies older than 90 days and keeps their rows; keeps recent and unprocessed bodies', async () => {
    const store = open();
    addEvent(store, 'WH-OLD', T - 91 * DAY_MS, true);
    addEvent(store, 'WH-OLD-PENDING', T - 200 * DAY_MS, false);
    addEvent(store, 'WH-RECENT', T - 89 * DAY_MS, true);
    const r = await applyRetention({ store }, POLICY, T);
    expect(r.webhookBodies).toBe(1);
    expect(body(store, 'WH-OLD')).toBe('');
    expect(body(store, 'WH-OLD-PENDING')).toContain('buyer@example.com');
    expect(body(store, 'WH-RECENT')).toContain('buyer@example.com');
    expect(count(store, 'SELECT count(*) AS n FROM webhook_events')).toBe(3);
  });

  it('prunes a backlog larger than one batch, in batches', async () => {
    const store = open();
    store.sqlite.transaction(() => {
      for (let i = 0; i < 1234; i++) addEvent(store, `WH-${i}`, T - 100 * DAY_MS + (i % 7), true);
    })();
    const r = await applyRetention({ store }, POLICY, T);
    expect(r.webhookBodies).toBe(1234);
    expect(count(store, `SELECT count(*) AS n FROM webhook_events WHERE raw_body != ''`)).toBe(0);
    expect((await applyRetention({ store }, POLICY, T)).webhookBodies).toBe(0);
  });

  it('deletes done jobs finished more than 7 days ago; dead, queued and recent done jobs stay', async () => {
    const store = open();
    for (let i = 0; i < 600; i++) addJob(store, 'done', T - 8 * DAY_MS);
    addJob(store, 'done', T - 6 * DAY_MS);
    addJob(store, 'dead', T - 300 * DAY_MS);
    addJob(store, 'queued', T - 300 * DAY_MS);
    const r = await applyRetention({ store }, POLICY, T);
    expect(r.doneJobs).toBe(600);
    const left = store.sqlite.prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status ORDER BY status').all();
    expect(left).toEqual([
      { status: 'dead', n: 1 },
      { status: 'done', n: 1 },
      { status: 'queued', n: 1 },
    ]);
  });

  it('forgets webhook transmissions past the replay window (3 days + 5 min of skew + a margin), not before', async () => {
    const store = open();
    const add = store.sqlite.prepare('INSERT INTO webhook_transmissions (transmission_id, body_sha256, received_at) VALUES (?, ?, ?)');
    add.run('old', Buffer.alloc(32), T - 3 * DAY_MS - 2 * 3_600_000);
    add.run('in-window', Buffer.alloc(32), T - 3 * DAY_MS);
    const r = await applyRetention({ store }, POLICY, T);
    expect(r.transmissions).toBe(1);
    expect(store.sqlite.prepare('SELECT transmission_id AS id FROM webhook_transmissions').all()).toEqual([{ id: 'in-window' }]);
  });
});

describe('ensureSchedules', () => {
  const pending = (store: Store) =>
    store.sqlite.prepare(`SELECT kind, run_at AS runAt, payload FROM jobs WHERE dedupe_key = ? AND status IN ('queued', 'running') ORDER BY kind`).all(SCHEDULE_KEY) as { kind: string; runAt: number; payload: string }[];

  it('queues one run of each schedule on a new database; later starts keep them as they are', () => {
    const store = open();
    expect(ensureSchedules(store, T)).toEqual(['expiry-warnings', 'retention', 'backup']);
    expect(pending(store)).toEqual([
      { kind: 'backup', runAt: Date.parse('2025-06-02T03:00:00Z'), payload: '{}' },
      { kind: 'expiry-warnings', runAt: T, payload: JSON.stringify({ since: T }) },
      { kind: 'retention', runAt: Date.parse('2025-06-02T04:00:00Z'), payload: '{}' },
    ]);
    expect(ensureSchedules(store, T + 5 * DAY_MS)).toEqual([]);
    expect(pending(store).map((p) => p.runAt)).toEqual([Date.parse('2025-06-02T03:00:00Z'), T, Date.parse('2025-06-02T04:00:00Z')]);
  });

  it('a run in progress (running) counts as pending; a dead-lettered schedule is queued again', () => {
    const store = open();
    ensureSchedules(store, T);
    store.sqlite.prepare(`UPDATE jobs SET status = 'running' WHERE kind = 'backup'`).run();
    store.sqlite.prepare(`UPDATE jobs SET status = 'dead' WHERE kind = 'retention'`).run();
    expect(ensureSchedules(store, T + DAY_MS)).toEqual(['retention']);
  });
});
