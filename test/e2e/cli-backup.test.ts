import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';

/**
 * `concierge backup` beside a running service taking webhooks, then
 * `concierge restore` of that backup into another database: every event
 * acknowledged (200) before the backup started is in the restored database.
 */

let h: Harness;
let work: string;
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'concierge-cli-backup-'));
});
afterAll(async () => {
  await h.close();
  rmSync(work, { recursive: true, force: true });
});

describe('backup and restore', { timeout: 180_000 }, () => {
  it('a backup taken while webhooks are being ingested restores with every event acknowledged before it started', async () => {
    // Some 6 MB of history first, so the copy takes many steps and the writer thread's commits fall between them.
    const fill = h.service.store.sqlite.prepare(`INSERT INTO audit_entries (at, kind, message) VALUES (?, 'history', ?)`);
    h.service.store.sqlite.transaction(() => {
      for (let i = 0; i < 3000; i++) fill.run(i, 'x'.repeat(2000));
    })();
    const acked: { id: string; at: number }[] = [];
    let loading = true;
    // Checkout events are stored and acknowledged without a PayPal call: the load is the inbox's group commits.
    const load = async () => {
      while (loading) {
        const event = h.paypal.event('CHECKOUT.ORDER.APPROVED', { id: `ORDER-${acked.length}` });
        const res = await h.deliver(event);
        if (res.status === 200) acked.push({ id: event.id, at: Date.now() });
      }
    };
    const loaders = [load(), load(), load()];
    await h.waitFor(() => acked.length >= 50, 20_000);
    const backups = join(work, 'backups');
    const startedAt = Date.now();
    const backup = await runCli(['backup'], work, { DATABASE_PATH: h.config.databasePath, BACKUP_DIR: backups });
    const during = acked.filter((a) => a.at > startedAt).length;
    loading = false;
    await Promise.all(loaders);
    expect(backup.stderr).toMatch(/checking the copy/);
    expect(backup.code, backup.stderr).toBe(0);
    const file = /^backup (\S+) written and checked/m.exec(backup.stdout)?.[1] ?? '';
    expect(file).toMatch(/concierge-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.db$/);
    expect(during).toBeGreaterThan(0);

    const restoredPath = join(work, 'restored', 'concierge.db');
    const restore = await runCli(['restore', file], work, { DATABASE_PATH: restoredPath });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toBe(`restored ${file} into ${restoredPath} (0 migration(s) applied on top)\n`);
    const db = new Database(restoredPath, { readonly: true });
    const stored = new Set((db.prepare('SELECT id FROM webhook_events').all() as { id: string }[]).map((r) => r.id));
    db.close();
    const before = acked.filter((a) => a.at < startedAt);
    expect(before.filter((a) => !stored.has(a.id))).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(before.length);
  });

  it('restore refuses a file that is not a backup, exit 1, and usage errors exit 2', async () => {
    writeFileSync(join(work, 'junk.db'), 'junk'.repeat(1000));
    const dbPath = join(work, 'other', 'concierge.db');
    const [junk, missingArg] = await Promise.all([runCli(['restore', join(work, 'junk.db')], work, { DATABASE_PATH: dbPath }), runCli(['restore'], work, { DATABASE_PATH: dbPath })]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain(`${join(work, 'junk.db')} cannot be restored: cannot read`);
    expect(junk.stderr).toContain('nothing was changed');
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toContain(`missing required argument 'file'`);
  });
});
