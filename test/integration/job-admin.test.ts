import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeQueue, retryAllDeadJobs, retryOneJob } from '../../src/app/job-admin.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { getJob } from '../../src/store/job-repo.ts';

/** The operator's view of the queue and retrying dead letters, on a real database. */

const T = Date.parse('2025-06-01T12:00:00Z');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function open(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-job-admin-'));
  const store = openStore(join(dir, 'concierge.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  return store;
}

function add(store: Store, kind: string, status: string, runAt: number, dedupeKey: string | null = null): number {
  const r = store.sqlite
    .prepare('INSERT INTO jobs (kind, payload, dedupe_key, status, attempts, max_attempts, run_at, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, 3, 10, ?, ?, ?, ?)')
    .run(kind, '{"memberId":"1"}', dedupeKey, status, runAt, status === 'dead' ? 'discord_rejected: no' : null, runAt, runAt);
  return Number(r.lastInsertRowid);
}

describe('describeQueue', () => {
  it('counts queued, due, running and dead by kind, with the oldest due run time; done jobs are not depth', () => {
    const store = open();
    add(store, 'role-sync', 'queued', T - 60_000);
    add(store, 'role-sync', 'queued', T - 5_000);
    add(store, 'role-sync', 'queued', T + 60_000);
    add(store, 'role-sync', 'running', T - 1_000);
    add(store, 'dm', 'dead', T - 1_000);
    add(store, 'dm', 'done', T - 1_000);
    add(store, 'audit', 'done', T - 1_000);
    const r = describeQueue(store, T, { deadListed: 10 });
    expect(r.kinds).toEqual([
      { kind: 'dm', queued: 0, due: 0, running: 0, dead: 1, oldestDueAt: null },
      { kind: 'role-sync', queued: 3, due: 2, running: 1, dead: 0, oldestDueAt: T - 60_000 },
    ]);
    expect(r.deadTotal).toBe(1);
    expect(r.dead.map((j) => j.kind)).toEqual(['dm']);
  });
});

describe('retrying', () => {
  it('a dead letter is queued now with fresh attempts; a queued job in backoff becomes due; running and done jobs are refused', () => {
    const store = open();
    const dead = add(store, 'dm', 'dead', T - 86_400_000);
    const waiting = add(store, 'dm', 'queued', T + 600_000);
    const running = add(store, 'dm', 'running', T);
    expect(retryOneJob(store, dead, T).kind).toBe('requeued');
    expect(getJob(store.db, dead)).toMatchObject({ status: 'queued', attempts: 0, runAt: T, lastError: 'discord_rejected: no' });
    expect(retryOneJob(store, waiting, T).kind).toBe('requeued');
    expect(getJob(store.db, waiting)?.runAt).toBe(T);
    expect(retryOneJob(store, running, T)).toMatchObject({ kind: 'not_retryable' });
    expect(retryOneJob(store, 424242, T)).toEqual({ kind: 'missing' });
  });

  it('a dead letter whose key has a newer queued job folds into it (one queued row per key)', () => {
    const store = open();
    const dead = add(store, 'role-sync', 'dead', T - 10_000, '300000000000000001');
    const newer = add(store, 'role-sync', 'queued', T + 60_000, '300000000000000001');
    expect(retryOneJob(store, dead, T)).toMatchObject({ kind: 'folded', into: newer });
    expect(getJob(store.db, newer)?.runAt).toBe(T);
    expect(getJob(store.db, dead)?.status).toBe('done');
  });

  it('--all-dead retries every dead letter once, in batches', async () => {
    const store = open();
    store.sqlite.transaction(() => {
      for (let i = 0; i < 450; i++) add(store, 'dm', 'dead', T - 1000);
    })();
    const progress: number[] = [];
    expect(await retryAllDeadJobs(store, T, (done) => progress.push(done))).toEqual({ requeued: 450, folded: 0 });
    expect(progress).toEqual([200, 400, 450]);
    expect(describeQueue(store, T, { deadListed: 1 }).deadTotal).toBe(0);
  });
});
