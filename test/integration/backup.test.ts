import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKUP_RETRY_MS, runScheduledBackup, takeBackup } from '../../src/app/backup.ts';
import { SCHEDULE_KEY } from '../../src/app/schedules.ts';
import { createLogger } from '../../src/log.ts';
import { restoreDatabase } from '../../src/app/restore.ts';
import { listBackups } from '../../src/store/backup-dir.ts';
import { checkDatabaseFile, readKnownMigrations } from '../../src/store/backup-file.ts';
import { openConnection } from '../../src/store/connection.ts';
import { MIGRATIONS_DIR, openStore, type Store } from '../../src/store/db.ts';

/** Online backups and restore on real files: names, modes, the check that makes a copy count, retention, restore's refusals. */

const T = Date.parse('2025-06-01T03:00:00Z');
const root = mkdtempSync(join(tmpdir(), 'concierge-backup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir);
  return dir;
};

function liveStore(dir: string): Store {
  const store = openStore(join(dir, 'concierge.db'));
  store.sqlite.prepare(`INSERT INTO members (discord_user_id, created_at, updated_at) VALUES ('300000000000000001', 1, 1)`).run();
  return store;
}

const members = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM members').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('takeBackup', () => {
  it('writes concierge-<UTC time>.db, owner-only, checked and stand-alone (no -wal needed)', async () => {
    const dir = freshDir();
    const store = liveStore(dir);
    const steps: string[] = [];
    const r = await takeBackup(store, { dir: join(dir, 'backups'), retention: 14 }, T, (s) => steps.push(s.kind));
    store.close();
    expect(r.file.name).toBe('concierge-2025-06-01T03-00-00.000Z.db');
    expect(statSync(r.file.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'backups')).mode & 0o777).toBe(0o700);
    expect(steps.at(-1)).toBe('check');
    expect(readdirSync(join(dir, 'backups'))).toEqual([r.file.name]);
    expect(readFileSync(r.file.path).subarray(18, 20)).toEqual(Buffer.from([1, 1])); // rollback journal, not WAL
    expect(members(r.file.path)).toBe(1);
    expect(checkDatabaseFile(r.file.path).ok).toBe(true);
  });

  it('keeps the newest BACKUP_RETENTION backups and never touches other files in the directory', async () => {
    const dir = freshDir();
    const backups = join(dir, 'backups');
    mkdirSync(backups);
    writeFileSync(join(backups, 'notes.txt'), 'mine');
    const store = liveStore(dir);
    for (let day = 0; day < 4; day++) await takeBackup(store, { dir: backups, retention: 2 }, T + day * 86_400_000);
    store.close();
    expect(listBackups(backups).map((b) => b.name)).toEqual(['concierge-2025-06-04T03-00-00.000Z.db', 'concierge-2025-06-03T03-00-00.000Z.db']);
    expect(existsSync(join(backups, 'notes.txt'))).toBe(true);
  });

  it('finishes while another connection keeps writing (the copy restarts with larger steps), holding every row committed before it started', async () => {
    const dir = freshDir();
    const store = liveStore(dir);
    const fill = store.sqlite.prepare(`INSERT INTO audit_entries (at, kind, message) VALUES (?, 'test', ?)`);
    store.sqlite.transaction(() => {
      for (let i = 0; i < 3000; i++) fill.run(i, 'x'.repeat(2000));
    })();
    // The webhook writer thread's stand-in: its own connection, a commit between every two backup steps.
    const writer = openConnection(join(dir, 'concierge.db'));
    const write = writer.prepare(`INSERT INTO audit_entries (at, kind, message) VALUES (?, 'writer', 'w')`);
    let writing = true;
    let writes = 0;
    const load = (async () => {
      while (writing) {
        write.run(++writes);
        await turn();
      }
    })();
    const r = await takeBackup(store, { dir: join(dir, 'backups'), retention: 14 }, T);
    writing = false;
    await load;
    writer.close();
    store.close();
    expect(r.restarts).toBeGreaterThan(0);
    const copy = new Database(r.file.path, { readonly: true });
    expect((copy.prepare(`SELECT count(*) AS n FROM audit_entries WHERE kind = 'test'`).get() as { n: number }).n).toBe(3000);
    copy.close();
  });
});

describe('runScheduledBackup', () => {
  const queuedRuns = (store: Store) =>
    store.sqlite.prepare(`SELECT run_at AS runAt FROM jobs WHERE kind = 'backup' AND dedupe_key = ? AND status = 'queued'`).all(SCHEDULE_KEY) as { runAt: number }[];

  it('queues tomorrow 03:00 UTC after a good backup; after a failure posts it once a day and tries again in an hour', async () => {
    const dir = freshDir();
    const store = liveStore(dir);
    const log = createLogger('silent');
    // BACKUP_DIR names a file: every backup fails until the operator fixes it.
    writeFileSync(join(dir, 'not-a-dir'), '');
    const broken = { dir: join(dir, 'not-a-dir', 'backups'), retention: 14 };
    expect(await runScheduledBackup({ store, log }, broken, T)).toBeNull();
    expect(queuedRuns(store)).toEqual([{ runAt: T + BACKUP_RETRY_MS }]);
    store.sqlite.prepare(`UPDATE jobs SET status = 'done' WHERE kind = 'backup'`).run();
    expect(await runScheduledBackup({ store, log }, broken, T + BACKUP_RETRY_MS)).toBeNull();
    const posted = store.sqlite.prepare(`SELECT message FROM audit_entries WHERE kind = 'backup.failed'`).all() as { message: string }[];
    expect(posted).toHaveLength(1);
    expect(posted[0]?.message).toMatch(/^The daily backup failed; trying again every hour: backup into .*not-a-dir.* failed/);
    expect(store.sqlite.prepare(`SELECT count(*) AS n FROM jobs WHERE kind = 'audit'`).get()).toEqual({ n: 1 });

    store.sqlite.prepare(`UPDATE jobs SET status = 'done' WHERE kind = 'backup'`).run();
    const fixed = { dir: join(dir, 'backups'), retention: 14 };
    const good = await runScheduledBackup({ store, log }, fixed, T + 2 * BACKUP_RETRY_MS);
    expect(good?.file.name).toBe('concierge-2025-06-01T05-00-00.000Z.db');
    expect(queuedRuns(store)).toEqual([{ runAt: Date.parse('2025-06-02T03:00:00Z') }]);
    store.close();
  });

  it('a backup whose name sorts below the kept ones (the clock stepped back) is still kept', async () => {
    const dir = freshDir();
    const store = liveStore(dir);
    const settings = { dir: join(dir, 'backups'), retention: 2 };
    await takeBackup(store, settings, T + 2 * 86_400_000);
    await takeBackup(store, settings, T + 86_400_000);
    const r = await takeBackup(store, settings, T);
    store.close();
    expect(r.pruned.map((b) => b.name)).toEqual(['concierge-2025-06-02T03-00-00.000Z.db']);
    expect(listBackups(settings.dir).map((b) => b.name)).toEqual(['concierge-2025-06-03T03-00-00.000Z.db', 'concierge-2025-06-01T03-00-00.000Z.db']);
  });
});

describe('checkDatabaseFile', () => {
  async function goodBackup(): Promise<string> {
    const dir = freshDir();
    const store = liveStore(dir);
    const r = await takeBackup(store, { dir, retention: 14 }, T);
    store.close();
    return r.file.path;
  }

  it('refuses a damaged file, naming the integrity failure', async () => {
    const path = await goodBackup();
    const bytes = readFileSync(path);
    // Page 2 onwards: table pages. Zeroing one breaks the b-tree without touching the header.
    bytes.fill(0xff, 4096 + 100, 4096 * 3);
    writeFileSync(path, bytes);
    const r = checkDatabaseFile(path);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problem).toMatch(/integrity check failed|malformed|not a database/);
  });

  it('refuses a file of another build, and one from a newer release', async () => {
    const known = readKnownMigrations();
    const path = await goodBackup();
    const other = known.map((m, i) => (i === 2 ? { ...m, hash: 'f'.repeat(64) } : m));
    expect(checkDatabaseFile(path, other)).toEqual({ ok: false, problem: expect.stringContaining('its migration 3 is not this release') });
    const older = known.slice(0, -1);
    expect(checkDatabaseFile(path, older)).toEqual({ ok: false, problem: expect.stringContaining('newer Concierge') });
  });

  it('refuses a SQLite file that is not a Concierge database', () => {
    const path = join(freshDir(), 'other.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(checkDatabaseFile(path)).toEqual({ ok: false, problem: 'not a Concierge database (it has no __drizzle_migrations table)' });
  });
});

describe('restoreDatabase', () => {
  const quiet = { isServiceRunning: () => false, now: T };

  it('refuses while the service runs, and changes nothing', async () => {
    const dir = freshDir();
    const store = liveStore(dir);
    const backup = (await takeBackup(store, { dir, retention: 14 }, T)).file.path;
    store.close();
    const before = readdirSync(dir).sort();
    expect(() => restoreDatabase(backup, { ...quiet, databasePath: join(dir, 'concierge.db'), isServiceRunning: () => true })).toThrow(/Concierge is running on .*: stop it first/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('refuses a damaged file before moving anything', () => {
    const dir = freshDir();
    liveStore(dir).close();
    writeFileSync(join(dir, 'junk.db'), 'not sqlite at all, just text that is long enough to look like a file'.repeat(100));
    const before = readdirSync(dir).sort();
    expect(() => restoreDatabase(join(dir, 'junk.db'), { ...quiet, databasePath: join(dir, 'concierge.db') })).toThrow(/junk\.db cannot be restored: .*nothing was changed/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('puts the backup in place, keeps the current database (with its WAL) aside, and migrates a backup from an older release', () => {
    const dir = freshDir();
    // A backup as the release with the first five migrations wrote it.
    const folder = join(dir, 'migrations-5');
    mkdirSync(join(folder, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    for (const e of journal.entries.slice(0, 5)) copyFileSync(join(MIGRATIONS_DIR, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));
    writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, 5) }));
    const old = new Database(join(dir, 'old.db'));
    migrate(drizzle(old), { migrationsFolder: folder });
    old.prepare(`INSERT INTO members (discord_user_id, created_at, updated_at) VALUES ('300000000000000009', 1, 1)`).run();
    old.close();
    // The current database, left by a crash: its last commits are only in the -wal.
    const current = openStore(join(dir, 'concierge.db'));
    current.sqlite.pragma('wal_autocheckpoint = 0');
    current.sqlite.prepare(`INSERT INTO members (discord_user_id, created_at, updated_at) VALUES ('300000000000000001', 1, 1)`).run();
    copyFileSync(join(dir, 'concierge.db'), join(dir, 'crash.db'));
    copyFileSync(join(dir, 'concierge.db-wal'), join(dir, 'crash.db-wal'));
    current.close();
    copyFileSync(join(dir, 'crash.db'), join(dir, 'concierge.db'));
    copyFileSync(join(dir, 'crash.db-wal'), join(dir, 'concierge.db-wal'));

    const steps: string[] = [];
    const r = restoreDatabase(join(dir, 'old.db'), { ...quiet, databasePath: join(dir, 'concierge.db'), onStep: (s) => steps.push(s) });
    expect(r.backupMigrations).toBe(5);
    expect(r.migrationsApplied).toBe(readKnownMigrations().length - 5);
    expect(r.aside).toEqual([`${join(dir, 'concierge.db')}.before-restore-2025-06-01T03-00-00.000Z`, `${join(dir, 'concierge.db')}.before-restore-2025-06-01T03-00-00.000Z-wal`]);
    expect(steps.length).toBeGreaterThanOrEqual(3);
    const restored = openStore(join(dir, 'concierge.db'), { migrate: false });
    expect(restored.sqlite.prepare('SELECT discord_user_id AS id FROM members').all()).toEqual([{ id: '300000000000000009' }]);
    restored.close();
    // The set-aside pair still opens as the database it was, with the commit from its WAL.
    expect(members(r.aside[0] ?? '')).toBe(1);
    expect(existsSync(`${join(dir, 'concierge.db')}.restoring`)).toBe(false);
  });
});
