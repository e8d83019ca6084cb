import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.ts';

/**
 * /readyz while another connection holds the database's write lock (the
 * webhook writer mid-commit, a CLI backup): the probe only reads, so it answers
 * at once and ready, instead of waiting busy_timeout (5 s) on the event loop
 * for a lock it does not need and then reporting the database as broken.
 */

let h: Harness;
beforeAll(async () => {
  // The job runner claims with a write transaction: keep it asleep so only /readyz meets the lock.
  h = await startHarness({ overrides: { pollMs: 600_000 } });
  await h.settle();
});
afterAll(() => h.close());

it('answers ready while another connection holds the write lock, the lock still held when it answers', async () => {
  const other = new Database(h.config.databasePath);
  try {
    other.exec('BEGIN IMMEDIATE');
    // The service runs in this process: a probe that waited for the lock would block this very await.
    const res = await fetch(`${h.service.url}/readyz`);
    const body = (await res.json()) as { failing: string[]; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(other.inTransaction).toBe(true);
    expect(body.checks['database']).toEqual({ ok: true });
    expect(body.failing).toEqual([]);
    expect(res.status).toBe(200);
  } finally {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
  }
});
