import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConciergeError } from '../../src/errors.ts';
import { defineJob, dmJob, roleSyncJob, type JobDefinition, type JobPayload } from '../../src/jobs/definitions.ts';
import { enqueue, claimJob, completeJob, deadLetterJob, retryJob, type EnqueueOptions, type JobRow } from '../../src/jobs/queue.ts';
import { enqueueJob } from '../helpers/queue.ts';
import { handleJob } from '../../src/jobs/handler.ts';
import { createJobRunner, type JobRunner, type RunnerOptions } from '../../src/jobs/runner.ts';
import { createLogger } from '../../src/log.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { countByStatus, getJob, oldestDueAge } from '../../src/store/job-repo.ts';

const T0 = 1_700_000_000_000;
const log = createLogger('silent');

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-queue-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'concierge.sqlite');
}

function open(path: string): Store {
  const store = openStore(path);
  cleanups.push(() => store.close());
  return store;
}

function fakeClock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

/** The runner's definitions default to its handlers' (a test's own kinds). */
function runner(opts: Partial<RunnerOptions> & Pick<RunnerOptions, 'store' | 'handlers'>): JobRunner {
  const r = createJobRunner({ log, concurrency: 1, random: () => 0.5, definitions: opts.handlers.map((h) => h.definition), ...opts });
  cleanups.push(() => r.stop());
  return r;
}

function add<D extends JobDefinition>(store: Store, definition: D, payload: JobPayload<D>, now: number, opts?: EnqueueOptions): number {
  return store.transaction((tx) => enqueueJob(tx, definition, payload, now, opts));
}

/** A kind of the test's own, any payload: the queue works on any definition. */
function testJob(kind: string, maxAttempts = 10): JobDefinition<string, z.ZodUnknown> {
  return defineJob({ kind, schema: z.unknown(), maxAttempts });
}

function auditRows(store: Store) {
  return store.sqlite.prepare('SELECT kind, severity, message, data, dedupe_key AS dedupeKey FROM audit_entries ORDER BY id').all() as Array<{
    kind: string;
    severity: string;
    message: string;
    data: string;
    dedupeKey: string;
  }>;
}

const memberPayload = z.object({ memberId: z.string() });
const sync = testJob('sync');
const other = testJob('other');

describe('enqueue', () => {
  it('commits with the caller transaction and vanishes with its rollback; max attempts come from the definition', () => {
    const store = open(tempDbPath());
    expect(() =>
      store.transaction((tx) => {
        enqueue(tx, roleSyncJob, { memberId: '1' }, T0);
        throw new Error('webhook insert failed');
      }),
    ).toThrow('webhook insert failed');
    expect(countByStatus(store.db)).toEqual({ queued: 0, running: 0, done: 0, dead: 0 });

    const id = store.transaction((tx) => enqueue(tx, roleSyncJob, { memberId: '1' }, T0));
    expect(getJob(store.db, id)).toMatchObject({ kind: 'role-sync', status: 'queued', attempts: 0, maxAttempts: 10, runAt: T0, dedupeKey: null });
    const dm = store.transaction((tx) => enqueue(tx, dmJob, { memberId: '1', kind: 'welcome', tierKey: 'gold', until: null }, T0));
    expect(getJob(store.db, dm)).toMatchObject({ kind: 'dm', maxAttempts: 8 });
  });

  it('refuses a transaction the store did not open: its commit could not wake the runner', () => {
    const store = open(tempDbPath());
    expect(() => store.db.transaction((tx) => enqueue(tx, roleSyncJob, { memberId: '1' }, T0))).toThrow('needs a transaction opened by Store.transaction');
    expect(countByStatus(store.db).queued).toBe(0);
  });

  it('collapses queued duplicates: earliest run_at, newest payload', () => {
    const store = open(tempDbPath());
    const a = add(store, sync, { v: 1 }, T0, { dedupeKey: 'm1', runAt: T0 + 5_000 });
    const b = add(store, sync, { v: 2 }, T0 + 1, { dedupeKey: 'm1', runAt: T0 + 1_000 });
    const c = add(store, sync, { v: 3 }, T0 + 2, { dedupeKey: 'm1', runAt: T0 + 9_000 });
    expect(b).toBe(a);
    expect(c).toBe(a);
    const row = getJob(store.db, a);
    expect(row?.runAt).toBe(T0 + 1_000);
    expect(JSON.parse(row?.payload ?? '')).toEqual({ v: 3 });
    // Same key, other kind: a different job. No key: never collapses.
    expect(add(store, other, { v: 1 }, T0, { dedupeKey: 'm1' })).not.toBe(a);
    expect(add(store, sync, { v: 1 }, T0)).not.toBe(add(store, sync, { v: 1 }, T0));
  });

  it('queues a new job once the first is running, and collapses into that one after', () => {
    const store = open(tempDbPath());
    const first = add(store, sync, { v: 1 }, T0, { dedupeKey: 'm1' });
    const claimed = claimJob(store, { now: T0, leaseMs: 30_000, workerId: 'w' });
    expect(claimed?.job.id).toBe(first);

    const second = add(store, sync, { v: 2 }, T0 + 1, { dedupeKey: 'm1' });
    expect(second).not.toBe(first);
    expect(completeJob(store, claimed!.lease, T0 + 2)).toBe(true);
    expect(add(store, sync, { v: 3 }, T0 + 3, { dedupeKey: 'm1' })).toBe(second);
    expect(getJob(store.db, first)?.status).toBe('done');
  });

  it("a job queued while its twin (same kind and dedupe key) runs is not claimed until the twin finishes: one member's syncs never run at once", () => {
    const store = open(tempDbPath());
    const first = add(store, sync, { v: 1 }, T0, { dedupeKey: 'm1' });
    const running = claimJob(store, { now: T0, leaseMs: 30_000, workerId: 'w1' })!;
    const twin = add(store, sync, { v: 2 }, T0 + 1, { dedupeKey: 'm1' });
    const otherMember = add(store, sync, { v: 3 }, T0 + 2, { dedupeKey: 'm2' });
    // A second worker gets the other member's job, not the twin.
    expect(claimJob(store, { now: T0 + 10, leaseMs: 30_000, workerId: 'w2' })?.job.id).toBe(otherMember);
    expect(claimJob(store, { now: T0 + 10, leaseMs: 30_000, workerId: 'w2' })).toBeNull();
    expect(completeJob(store, running.lease, T0 + 20)).toBe(true);
    expect(getJob(store.db, first)?.status).toBe('done');
    expect(claimJob(store, { now: T0 + 30, leaseMs: 30_000, workerId: 'w2' })?.job.id).toBe(twin);
  });

  it('bulk jobs wait for every due live job, oldest first; a live enqueue collapsing into a bulk job makes it live', () => {
    const store = open(tempDbPath());
    // roleSyncJob's priority: a resync is bulk work.
    const bulk1 = add(store, roleSyncJob, { memberId: 'm1', resync: true }, T0, { dedupeKey: 'm1' });
    const bulk2 = add(store, roleSyncJob, { memberId: 'm2', resync: true }, T0, { dedupeKey: 'm2' });
    const bulk3 = add(store, roleSyncJob, { memberId: 'm3', resync: true }, T0, { dedupeKey: 'm3' });
    const live = add(store, other, { m: 9 }, T0 + 5);
    // The member behind bulk3 just paid: the same role sync, now live.
    expect(add(store, roleSyncJob, { memberId: 'm3' }, T0 + 6, { dedupeKey: 'm3' })).toBe(bulk3);
    const notYet = add(store, other, {}, T0 + 60_000, { runAt: T0 + 60_000 });

    const order: number[] = [];
    for (;;) {
      const c = claimJob(store, { now: T0 + 10, leaseMs: 30_000, workerId: 'w' });
      if (c == null) break;
      order.push(c.job.id);
    }
    expect(order).toEqual([bulk3, live, bulk1, bulk2]);
    expect(getJob(store.db, notYet)?.status).toBe('queued');
  });

  it('a failed run folds into a duplicate queued while it ran', () => {
    const store = open(tempDbPath());
    const first = add(store, sync, { v: 1 }, T0, { dedupeKey: 'm1' });
    const claimed = claimJob(store, { now: T0, leaseMs: 30_000, workerId: 'w' })!;
    const second = add(store, sync, { v: 2 }, T0, { dedupeKey: 'm1', runAt: T0 + 60_000 });
    const outcome = retryJob(store, claimed.lease, { runAt: T0 + 1_000, countAttempt: true, error: 'Error: boom', now: T0 });
    expect(outcome).toEqual({ kind: 'superseded', byJobId: second });
    expect(getJob(store.db, first)).toMatchObject({ status: 'done', lastError: expect.stringContaining('superseded by job') });
    expect(getJob(store.db, second)).toMatchObject({ status: 'queued', runAt: T0 + 1_000 });
  });
});

describe('job runner', () => {
  it('retries a failing handler with growing backoff until it succeeds', async () => {
    const store = open(tempDbPath());
    const clock = fakeClock();
    let calls = 0;
    const flaky = defineJob({ kind: 'flaky', schema: memberPayload, maxAttempts: 10 });
    const handlers = [
      handleJob(flaky, async (payload) => {
        expect(payload.memberId).toBe('42');
        calls += 1;
        if (calls < 3) throw new Error(`discord timeout ${calls}`);
      }),
    ];
    const r = runner({ store, handlers, clock: clock.now });
    const id = add(store, flaky, { memberId: '42' }, clock.now());

    await r.runUntilIdle();
    const afterFirst = getJob(store.db, id)!;
    expect(calls).toBe(1);
    expect(afterFirst).toMatchObject({ status: 'queued', attempts: 1, lastError: 'Error: discord timeout 1' });
    const firstDelay = afterFirst.runAt - clock.now();
    expect(firstDelay).toBe(750); // ceiling 1 s, equal jitter with random 0.5

    await r.runUntilIdle(); // not due yet
    expect(calls).toBe(1);

    clock.set(afterFirst.runAt);
    await r.runUntilIdle();
    const afterSecond = getJob(store.db, id)!;
    expect(calls).toBe(2);
    expect(afterSecond).toMatchObject({ status: 'queued', attempts: 2 });
    const secondDelay = afterSecond.runAt - clock.now();
    expect(secondDelay).toBe(1_500);
    expect(secondDelay).toBeGreaterThan(firstDelay);
    expect(afterSecond.runAt).toBeGreaterThan(afterFirst.runAt);

    clock.set(afterSecond.runAt);
    await r.runUntilIdle();
    expect(calls).toBe(3);
    expect(getJob(store.db, id)).toMatchObject({ status: 'done', attempts: 3 });
    expect(auditRows(store)).toEqual([]);
  });

  it('dead-letters a permanent error after one attempt, with an audit entry and one onDead call', async () => {
    const store = open(tempDbPath());
    const clock = fakeClock();
    let calls = 0;
    const deadSeen: Array<{ job: JobRow; error: string }> = [];
    const posted: number[] = [];
    const paypalFetch = defineJob({ kind: 'paypal-fetch', schema: z.object({ subscriptionId: z.string() }), maxAttempts: 10 });
    const auditPost = defineJob({ kind: 'audit-post', schema: z.object({ jobId: z.number() }), maxAttempts: 10 });
    const r = runner({
      store,
      clock: clock.now,
      handlers: [
        handleJob(paypalFetch, async () => {
          calls += 1;
          throw new ConciergeError('paypal.not_found', 'GET /v1/billing/subscriptions/I-1 -> 404', { retry: false });
        }),
        handleJob(auditPost, async (payload) => {
          posted.push(payload.jobId);
        }),
      ],
      onDead: (tx, job, error) => {
        deadSeen.push({ job, error });
        // What the app does: enqueue the audit-channel post in the same transaction.
        enqueueJob(tx, auditPost, { jobId: job.id }, clock.now());
      },
    });
    const id = add(store, paypalFetch, { subscriptionId: 'I-1' }, clock.now());
    await r.runUntilIdle();

    expect(calls).toBe(1);
    expect(getJob(store.db, id)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'paypal.not_found: GET /v1/billing/subscriptions/I-1 -> 404' });
    const audits = auditRows(store);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ kind: 'job.dead', severity: 'danger', dedupeKey: `job.dead:${id}` });
    expect(audits[0]!.message).toContain('paypal-fetch');
    expect(audits[0]!.message).toContain(`#${id}`);
    expect(audits[0]!.message).toContain('1 attempt');
    expect(audits[0]!.message).toContain('paypal.not_found');
    expect(JSON.parse(audits[0]!.data)).toMatchObject({ payload: { subscriptionId: 'I-1' }, attempts: 1 });
    expect(deadSeen).toHaveLength(1);
    expect(deadSeen[0]!.job).toMatchObject({ id, kind: 'paypal-fetch', payload: { subscriptionId: 'I-1' } });
    // The hook's job committed with the dead-letter, and the runner then ran it.
    expect(posted).toEqual([id]);
  });

  it("dead-letters after the last attempt of a retryable error, honouring the definition's maxAttempts", async () => {
    const store = open(tempDbPath());
    const clock = fakeClock();
    let calls = 0;
    const message = defineJob({ kind: 'message', schema: memberPayload, maxAttempts: 2 });
    const r = runner({
      store,
      clock: clock.now,
      handlers: [
        handleJob(message, async () => {
          calls += 1;
          throw new ConciergeError('discord.unavailable', 'POST /channels -> 503', { retry: true });
        }),
      ],
    });
    const id = add(store, message, { memberId: '1' }, clock.now());
    expect(getJob(store.db, id)?.maxAttempts).toBe(2);
    await r.runUntilIdle();
    clock.advance(60_000);
    await r.runUntilIdle();
    clock.advance(60_000);
    await r.runUntilIdle();
    expect(calls).toBe(2);
    expect(getJob(store.db, id)).toMatchObject({ status: 'dead', attempts: 2 });
    expect(auditRows(store)).toHaveLength(1);
  });

  it('dead-letters unknown kinds and invalid payloads without running anything', async () => {
    const store = open(tempDbPath());
    let calls = 0;
    const member = defineJob({ kind: 'member', schema: memberPayload, maxAttempts: 10 });
    const r = runner({
      store,
      handlers: [
        handleJob(member, async () => {
          calls += 1;
        }),
      ],
    });
    // Rows as an older version may have left them: a kind no longer defined, a payload the schema refuses.
    const unknown = add(store, testJob('no-such-kind'), { memberId: '1' }, Date.now());
    const bad = add(store, testJob('member'), { memberId: 5 }, Date.now());
    const good = add(store, member, { memberId: '5' }, Date.now());
    await r.runUntilIdle();
    expect(calls).toBe(1);
    expect(getJob(store.db, unknown)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'unknown job kind "no-such-kind"' });
    expect(getJob(store.db, bad)).toMatchObject({ status: 'dead', attempts: 1 });
    expect(getJob(store.db, bad)?.lastError).toMatch(/^invalid payload: memberId: /);
    expect(getJob(store.db, good)?.status).toBe('done');
    expect(auditRows(store).map((a) => a.dedupeKey)).toEqual([`job.dead:${unknown}`, `job.dead:${bad}`]);
  });

  it('still dead-letters when onDead throws, noting it in the audit entry', async () => {
    const store = open(tempDbPath());
    const r = runner({
      store,
      handlers: [],
      onDead: () => {
        throw new Error('hook broke');
      },
    });
    const id = add(store, testJob('ghost'), {}, Date.now());
    await r.runUntilIdle();
    expect(getJob(store.db, id)?.status).toBe('dead');
    expect(JSON.parse(auditRows(store)[0]!.data)).toMatchObject({ onDeadError: 'Error: hook broke' });
  });

  it('a server retry-after waits exactly that long and does not use up an attempt', async () => {
    const store = open(tempDbPath());
    const clock = fakeClock();
    let calls = 0;
    const marketplaceSync = defineJob({ kind: 'marketplace-sync', schema: memberPayload, maxAttempts: 2 });
    const r = runner({
      store,
      clock: clock.now,
      handlers: [
        handleJob(marketplaceSync, async () => {
          calls += 1;
          if (calls <= 3) throw new ConciergeError('marketplace.rate_limited', 'PUT /v1/members/1 -> 429', { retry: true, retryAfterMs: 5_000 });
        }),
      ],
    });
    const id = add(store, marketplaceSync, { memberId: '1' }, clock.now());
    for (let i = 1; i <= 3; i++) {
      await r.runUntilIdle();
      expect(calls).toBe(i);
      expect(getJob(store.db, id)).toMatchObject({ status: 'queued', attempts: 0, runAt: clock.now() + 5_000 });
      clock.advance(4_999);
      await r.runUntilIdle();
      expect(calls).toBe(i);
      clock.advance(1);
    }
    await r.runUntilIdle();
    expect(calls).toBe(4);
    expect(getJob(store.db, id)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('reclaims a job whose worker died once its lease expires, and runs it once', async () => {
    const path = tempDbPath();
    const storeA = open(path);
    const storeB = open(path);
    const clock = fakeClock();
    storeB.sqlite.exec('CREATE TABLE test_effects (job_id INTEGER PRIMARY KEY, runs INTEGER NOT NULL)');
    let calls = 0;
    const member = defineJob({ kind: 'member', schema: memberPayload, maxAttempts: 10 });
    const handlers = [
      handleJob(member, async (_payload, ctx) => {
        calls += 1;
        storeB.sqlite
          .prepare('INSERT INTO test_effects (job_id, runs) VALUES (?, 1) ON CONFLICT (job_id) DO UPDATE SET runs = runs + 1')
          .run(ctx.job.id);
      }),
    ];
    const id = add(storeA, member, { memberId: '7' }, clock.now());
    // Runner A claims and dies: it never completes.
    const deadClaim = claimJob(storeA, { now: clock.now(), leaseMs: 30_000, workerId: 'A' })!;
    expect(deadClaim.job.id).toBe(id);

    const b = runner({ store: storeB, handlers, clock: clock.now, workerId: 'B' });
    await b.runUntilIdle();
    expect(calls).toBe(0); // lease still valid
    clock.advance(30_000);
    await b.runUntilIdle();
    expect(calls).toBe(0); // locked_until < now is strict
    clock.advance(1);
    await b.runUntilIdle();
    await b.runUntilIdle();
    expect(calls).toBe(1);
    expect(storeA.sqlite.prepare('SELECT runs FROM test_effects WHERE job_id = ?').get(id)).toEqual({ runs: 1 });
    expect(getJob(storeA.db, id)).toMatchObject({ status: 'done', attempts: 2, lockedBy: 'B' });

    // A wakes up late: its writes are fenced off.
    expect(completeJob(storeA, deadClaim.lease, clock.now())).toBe(false);
    expect(deadLetterJob(storeA, deadClaim, 'late', clock.now())).toEqual({ kind: 'lost' });
    expect(getJob(storeA.db, id)?.status).toBe('done');
  });

  it('dead-letters a job whose worker died during its last attempt', async () => {
    const store = open(tempDbPath());
    const clock = fakeClock();
    let calls = 0;
    const once = testJob('once', 1);
    const r = runner({ store, clock: clock.now, handlers: [handleJob(once, async () => void (calls += 1))] });
    const id = add(store, once, {}, clock.now());
    claimJob(store, { now: clock.now(), leaseMs: 30_000, workerId: 'crashed' });
    clock.advance(30_001);
    await r.runUntilIdle();
    expect(calls).toBe(0);
    expect(getJob(store.db, id)?.status).toBe('dead');
    expect(getJob(store.db, id)?.lastError).toContain('lease expired');
  });

  it('two runners on one database file never run one job twice', async () => {
    const path = tempDbPath();
    const storeA = open(path);
    const storeB = open(path);
    const runs = new Map<number, number>();
    const byRunner = { A: 0, B: 0 };
    const work = defineJob({ kind: 'work', schema: z.object({ n: z.number() }), maxAttempts: 10 });
    const handlersFor = (name: 'A' | 'B') => [
      handleJob(work, async (_p, ctx) => {
        runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
        byRunner[name] += 1;
        await delay(Math.floor(Math.random() * 4));
      }),
    ];
    const ids = storeA.transaction((tx) => Array.from({ length: 100 }, (_, n) => enqueueJob(tx, work, { n }, Date.now())));
    const a = runner({ store: storeA, handlers: handlersFor('A'), concurrency: 4, pollMs: 5, workerId: 'A' });
    const b = runner({ store: storeB, handlers: handlersFor('B'), concurrency: 4, pollMs: 5, workerId: 'B' });
    a.start();
    b.start();
    const deadline = Date.now() + 8_000;
    while (countByStatus(storeA.db).done < 100 && Date.now() < deadline) await delay(10);
    await Promise.all([a.stop(), b.stop()]);

    expect(countByStatus(storeA.db)).toEqual({ queued: 0, running: 0, done: 100, dead: 0 });
    expect(ids.map((id) => runs.get(id))).toEqual(ids.map(() => 1));
    expect(byRunner.A).toBeGreaterThan(0);
    expect(byRunner.B).toBeGreaterThan(0);
  });

  it('two threads claiming from one file at full speed never get the same job', async () => {
    // Real parallelism (two threads, two connections), unlike two runners sharing one event loop.
    const path = tempDbPath();
    const store = open(path);
    const total = 400;
    const work = testJob('work');
    const ids = store.transaction((tx) => Array.from({ length: total }, (_, n) => enqueueJob(tx, work, { n }, Date.now())));
    // tsx's ESM register API (its CommonJS twin mis-resolves when called from a worker).
    const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const srcUrl = (p: string) => new URL(`../../src/${p}`, import.meta.url).href;
    const code = `
      const { parentPort, workerData: w } = require('node:worker_threads');
      (async () => {
        (await import(w.tsxApi)).register();
        const { openStore } = await import(w.db);
        const { claimJob, completeJob } = await import(w.queue);
        const store = openStore(w.path);
        parentPort.postMessage({ ready: true });
        await new Promise((resolve) => parentPort.once('message', resolve));
        const claimed = [];
        for (;;) {
          const c = claimJob(store, { now: Date.now(), leaseMs: 30000, workerId: w.name });
          if (c === null) break;
          claimed.push(c.job.id);
          if (!completeJob(store, c.lease, Date.now())) throw new Error('lost lease on ' + c.job.id);
          // Short bursts: a thread in a tight loop can starve the other of the write lock, and
          // then one thread takes every job and the race is never run.
          if (claimed.length % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
        store.close();
        parentPort.postMessage({ claimed });
      })().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
    `;
    const start = (name: string) => {
      const worker = new Worker(code, { eval: true, workerData: { name, path, tsxApi, db: srcUrl('store/db.ts'), queue: srcUrl('jobs/queue.ts') } });
      cleanups.push(() => worker.terminate().then(() => undefined));
      const ready = new Promise<void>((resolve, reject) => {
        worker.once('message', (m: { ready?: true; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
        worker.once('error', reject);
      });
      const result = ready.then(
        () =>
          new Promise<number[]>((resolve, reject) => {
            worker.once('message', (m: { claimed?: number[]; error?: string }) => (m.claimed ? resolve(m.claimed) : reject(new Error(m.error))));
            worker.once('error', reject);
          }),
      );
      return { worker, ready, result };
    };
    const a = start('A');
    const b = start('B');
    await Promise.all([a.ready, b.ready]);
    a.worker.postMessage('go');
    b.worker.postMessage('go');
    const [fromA, fromB] = await Promise.all([a.result, b.result]);

    const all = [...fromA, ...fromB].sort((x, y) => x - y);
    expect(all).toEqual([...ids].sort((x, y) => x - y)); // every job once: no duplicates, none missed
    expect(fromA.length).toBeGreaterThan(0);
    expect(fromB.length).toBeGreaterThan(0);
    expect(countByStatus(store.db)).toEqual({ queued: 0, running: 0, done: total, dead: 0 });
  });

  it('dead-letters a long run of invalid jobs without freezing the event loop', async () => {
    const store = open(tempDbPath());
    const r = runner({ store, concurrency: 2, handlers: [] });
    const retired = testJob('retired-kind');
    store.transaction((tx) => {
      for (let i = 0; i < 150; i++) enqueueJob(tx, retired, { i }, Date.now());
    });
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 0);
    await r.runUntilIdle();
    clearInterval(ticker);
    expect(countByStatus(store.db).dead).toBe(150);
    expect(ticks).toBeGreaterThan(0);
  });

  it('never runs more than `concurrency` handlers at once', async () => {
    const store = open(tempDbPath());
    let current = 0;
    let max = 0;
    let calls = 0;
    const slow = testJob('slow');
    const r = runner({
      store,
      concurrency: 3,
      handlers: [
        handleJob(slow, async () => {
          calls += 1;
          current += 1;
          max = Math.max(max, current);
          await delay(10);
          current -= 1;
        }),
      ],
    });
    store.transaction((tx) => {
      for (let i = 0; i < 12; i++) enqueueJob(tx, slow, {}, Date.now());
    });
    r.start(); // the loop and runUntilIdle share the same slots
    await r.runUntilIdle();
    await r.stop();
    expect(calls).toBe(12);
    expect(max).toBe(3);
  });

  it('a job committed by a transaction wakes the sleeping runner at once, without a wake() call', async () => {
    const store = open(tempDbPath());
    let ran!: () => void;
    const done = new Promise<void>((resolve) => (ran = resolve));
    const ping = testJob('ping');
    const r = runner({ store, pollMs: 60_000, handlers: [handleJob(ping, async () => ran())] });
    r.start();
    await delay(50); // the loop found nothing and sleeps for up to a minute
    const beatBefore = r.lastBeat();
    add(store, ping, {}, Date.now());
    await done; // the test's 20 s timeout is far inside the minute it would otherwise sleep
    expect(r.lastBeat()).toBeGreaterThan(beatBefore);
  });

  it('a rolled-back transaction enqueues nothing and wakes nothing', async () => {
    const store = open(tempDbPath());
    let calls = 0;
    const ping = testJob('ping');
    const r = runner({ store, pollMs: 60_000, handlers: [handleJob(ping, async () => void (calls += 1))] });
    r.start();
    await delay(50);
    const beatBefore = r.lastBeat();
    expect(() =>
      store.transaction((tx) => {
        enqueueJob(tx, ping, {}, Date.now());
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    await delay(100);
    // The loop did not turn: it stamps lastBeat with Date.now() on every turn.
    expect(r.lastBeat()).toBe(beatBefore);
    expect(countByStatus(store.db)).toEqual({ queued: 0, running: 0, done: 0, dead: 0 });
    expect(calls).toBe(0);
  });

  it('an explicit wake() still claims at once (for commits the store cannot see)', async () => {
    const store = open(tempDbPath());
    let ran!: () => void;
    const done = new Promise<void>((resolve) => (ran = resolve));
    const ping = testJob('ping');
    const r = runner({ store, pollMs: 60_000, handlers: [handleJob(ping, async () => ran())] });
    r.start();
    await delay(50);
    // As the webhook writer thread does: a row committed outside Store.transaction, which the store does not see.
    store.sqlite
      .prepare("INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES ('ping', '{}', 'queued', 0, 10, ?, ?, ?)")
      .run(Date.now(), Date.now(), Date.now());
    r.wake();
    await done;
  });

  it('sleeps only until the next scheduled job, not a whole poll interval', async () => {
    const store = open(tempDbPath());
    let ranAt = 0;
    const later = testJob('later');
    const r = runner({ store, pollMs: 5_000, handlers: [handleJob(later, async () => void (ranAt = Date.now()))] });
    const runAt = Date.now() + 100;
    add(store, later, {}, Date.now(), { runAt });
    r.start();
    const deadline = Date.now() + 2_000;
    while (ranAt === 0 && Date.now() < deadline) await delay(10);
    expect(ranAt).toBeGreaterThanOrEqual(runAt);
    expect(ranAt - runAt).toBeLessThan(2_000); // far inside the 5 s poll interval
  });

  it('heartbeats keep a slow but alive job from being stolen', async () => {
    const store = open(tempDbPath());
    let calls = 0;
    const slow = testJob('slow');
    const handlers = [
      handleJob(slow, async () => {
        calls += 1;
        await delay(1_200); // four leases long
      }),
    ];
    // A lease of 300 ms (heartbeat every 100 ms) tolerates a 200 ms stall of a busy test machine; 90 ms did not always.
    const a = runner({ store, handlers, leaseMs: 300, pollMs: 10, workerId: 'A' });
    const b = runner({ store, handlers, leaseMs: 300, pollMs: 10, workerId: 'B' });
    const id = add(store, slow, {}, Date.now());
    a.start();
    await delay(20);
    b.start();
    const deadline = Date.now() + 5_000;
    while (getJob(store.db, id)?.status !== 'done' && Date.now() < deadline) await delay(10);
    expect(getJob(store.db, id)).toMatchObject({ status: 'done', attempts: 1, lockedBy: 'A' });
    expect(calls).toBe(1);
  });

  it('aborts a handler whose lease was taken over, and leaves the job to its new owner', async () => {
    const store = open(tempDbPath());
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let abortReason = '';
    const stalled = testJob('stalled');
    const r = runner({
      store,
      leaseMs: 60,
      handlers: [
        handleJob(stalled, (_p, ctx) =>
          new Promise<void>((_resolve, reject) => {
            started();
            ctx.signal.addEventListener('abort', () => {
              abortReason = String(ctx.signal.reason);
              reject(ctx.signal.reason);
            });
          }),
        ),
      ],
    });
    const id = add(store, stalled, {}, Date.now());
    const done = r.runUntilIdle();
    await running;
    // As if the event loop had stalled past the lease and another worker took the job.
    store.sqlite.prepare('UPDATE jobs SET locked_until = 0 WHERE id = ?').run(id);
    expect(claimJob(store, { now: Date.now(), leaseMs: 30_000, workerId: 'thief' })?.job.id).toBe(id);
    await done;
    expect(abortReason).toContain('lease lost');
    expect(getJob(store.db, id)).toMatchObject({ status: 'running', attempts: 2, lockedBy: 'thief', lastError: null });
  });

  it('stop() waits for running jobs, then aborts them and requeues without using an attempt', async () => {
    const store = open(tempDbPath());
    let finished = 0;
    const quickJob = testJob('quick');
    const stuckJob = testJob('stuck');
    const r = runner({
      store,
      concurrency: 2,
      stopGraceMs: 50,
      handlers: [
        handleJob(quickJob, async () => void (await delay(10), (finished += 1))),
        handleJob(stuckJob, (_p, ctx) =>
          new Promise<void>((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
        ),
      ],
    });
    const quick = add(store, quickJob, {}, Date.now());
    const stuck = add(store, stuckJob, {}, Date.now());
    r.start();
    await delay(5);
    await r.stop();
    expect(finished).toBe(1);
    expect(getJob(store.db, quick)?.status).toBe('done');
    expect(getJob(store.db, stuck)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(getJob(store.db, stuck)?.lastError).toContain('interrupted by shutdown');
  });
});

describe('job runner start-up', () => {
  it('refuses a defined kind without a handler, a kind with two, and a handler of an undefined kind', () => {
    const store = open(tempDbPath());
    const a = testJob('a');
    const b = testJob('b');
    const run = async () => undefined;
    const create = (definitions: JobDefinition[], handlers: RunnerOptions['handlers']) => () => createJobRunner({ store, log, concurrency: 1, definitions, handlers });
    expect(create([a, b], [handleJob(a, run)])).toThrow('no job handler for: b');
    expect(create([a], [handleJob(a, run), handleJob(a, run)])).toThrow('job kind "a" has two handlers');
    expect(create([a], [handleJob(a, run), handleJob(b, run)])).toThrow('job handler for "b": its definition is not in the runner\'s list');
    expect(create([a, testJob('a')], [handleJob(a, run)])).toThrow('a kind is defined twice');
    expect(create([a, b], [handleJob(a, run), handleJob(b, run)])).not.toThrow();
  });
});

describe('read helpers', () => {
  it('report the oldest due wait and the counts per status', () => {
    const store = open(tempDbPath());
    expect(oldestDueAge(store.db, T0)).toBeNull();
    add(store, other, {}, T0 - 5_000, { runAt: T0 - 5_000 });
    add(store, other, {}, T0, { runAt: T0 - 1_000 });
    add(store, other, {}, T0, { runAt: T0 + 60_000 });
    expect(oldestDueAge(store.db, T0)).toBe(5_000);
    claimJob(store, { now: T0, leaseMs: 30_000, workerId: 'w' });
    expect(oldestDueAge(store.db, T0)).toBe(1_000);
    expect(countByStatus(store.db)).toEqual({ queued: 2, running: 1, done: 0, dead: 0 });
  });
});
