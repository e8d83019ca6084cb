import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { startHarness, testEnv } from '../helpers/harness.ts';
import { startServiceProcess } from '../helpers/service-process.ts';
import { PLAN_IDS, ROLE_IDS, TIERS_FIXTURE_PATH } from '../helpers/tiers.ts';
import { auditEntries, webhookEvents } from '../../src/store/schema.ts';
import { and, count, eq } from 'drizzle-orm';

/**
 * Issue 16, bad input at start: `npm start` (src/main.ts in a child process) with a bad tiers file or an
 * unusable database exits non-zero within seconds with one line naming the file and the problem (no stack
 * trace), and leaves the database exactly as it was. And a disk that fills up while running costs no webhook.
 */

const FIXTURE = readFileSync(TIERS_FIXTURE_PATH, 'utf8');
// Nothing listens there: a start that got as far as PayPal would be a failure of the test, not a hang.
const NO_PAYPAL = 'https://127.0.0.1:9';
const NOBODY = { uid: 65534, gid: 65534 };
/** One start through tsx: seconds on a busy two-core machine (the exit itself comes at once). */
const START_TIMEOUT_MS = 60_000;

let root: string;
/** A database as the current release leaves it, with enough rows to span many pages. */
let realDb: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'concierge-startup-faults-'));
  // Others may enter (the unreadable-file case runs the service as nobody); files stay as each case sets them.
  chmodSync(root, 0o755);
  realDb = join(root, 'real.db');
  const store = openStore(realDb);
  const insert = store.sqlite.prepare('INSERT INTO members (discord_user_id, created_at, updated_at) VALUES (?, ?, ?)');
  store.sqlite.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(String(800000000000000000n + BigInt(i)), 1, 1);
  })();
  store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file in `dir` with its hash: what "the database untouched" compares. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).isFile() ? sha256(join(dir, f)) : 'dir']));
}

interface Start {
  code: number | null;
  lines: string[];
  output: string;
}

async function start(dir: string, env: Record<string, string>, user?: typeof NOBODY): Promise<Start> {
  const p = startServiceProcess(testEnv(NO_PAYPAL, join(dir, 'data', 'concierge.db'), { LOG_LEVEL: 'info', ...env }), dir, user);
  const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
  if (code === 'hung') {
    p.child.kill('SIGKILL');
    throw new Error(`the service did not exit within 30 s:\n${p.output()}`);
  }
  const output = p.output();
  return { code, output, lines: output.split('\n').filter((l) => l.trim() !== '') };
}

/** One line, naming `file` and matching `problem`, no stack trace, no JSON log of a crash. */
function expectOneClearLine(s: Start, file: string, problem: RegExp): void {
  expect(s.code, s.output).not.toBe(0);
  expect(s.code, s.output).not.toBeNull();
  expect(s.lines, s.output).toHaveLength(1);
  expect(s.output).toContain(file);
  expect(s.output).toMatch(problem);
  expect(s.output).not.toMatch(/\n\s+at |"stack"|"level":60/);
}

const fixtureWith = (from: string, to: string) => {
  if (!FIXTURE.includes(from)) throw new Error(`the fixture has no ${from}`);
  return FIXTURE.replace(from, to);
};

interface TiersCase {
  name: string;
  /** Creates the bad tiers file at `path`. */
  make(path: string): void;
  problem: RegExp;
  /** Run as another user: root reads any file. */
  user?: typeof NOBODY;
}

const TIERS_CASES: TiersCase[] = [
  { name: 'invalid YAML', make: (f) => writeFileSync(f, 'tiers:\n  - key: elite\n    name: "Elite\n    rank: 1\n'), problem: /not valid YAML/ },
  { name: 'two tiers with one key', make: (f) => writeFileSync(f, fixtureWith('key: legendary', 'key: elite')), problem: /two tiers share key "elite"/ },
  { name: 'two tiers with one rank', make: (f) => writeFileSync(f, fixtureWith('rank: 4', 'rank: 1')), problem: /two tiers share rank 1/ },
  { name: 'two tiers with one role', make: (f) => writeFileSync(f, fixtureWith('role_id: "100000000000000004"', 'role_id: "100000000000000001"')), problem: /two tiers share role_id "100000000000000001"/ },
  {
    name: 'a plan id in two tiers',
    make: (f) => writeFileSync(f, fixtureWith('plans: [P-WARLORD0MONTHLY000000001]', 'plans: [P-ELITE0MONTHLY00000000001]')),
    problem: /two tiers share plan "P-ELITE0MONTHLY00000000001"/,
  },
  { name: 'an unknown top-level key', make: (f) => writeFileSync(f, `${FIXTURE}colour: red\n`), problem: /Unrecognized key.*colour/ },
  { name: 'a misspelt policy key', make: (f) => writeFileSync(f, fixtureWith('grace_days: 3', 'grace_day: 7')), problem: /policy: Unrecognized key.*grace_day/ },
  { name: 'a missing field', make: (f) => writeFileSync(f, fixtureWith('    role_id: "100000000000000001"\n', '')), problem: /tiers\.0\.role_id: missing/ },
  { name: 'an empty file', make: (f) => writeFileSync(f, ''), problem: /the file is empty/ },
  { name: 'a directory instead of a file', make: (f) => mkdirSync(f), problem: /is a directory, not a file/ },
  { name: 'a file the service may not read', make: (f) => (writeFileSync(f, FIXTURE), chmodSync(f, 0o600)), problem: /not readable/, user: NOBODY },
  { name: 'no file at all', make: () => undefined, problem: /file not found/ },
];

const ROOT_DIR = new URL('../../', import.meta.url).pathname;

/** Whether a user other than the owner may enter every directory down to `path` (the x bit for others). */
function othersMayEnter(path: string): boolean {
  const parts = path.split('/').filter((x) => x !== '');
  return parts.every((_, i) => (statSync(`/${parts.slice(0, i + 1).join('/')}`).mode & 0o001) !== 0);
}

describe('a bad tiers file stops the start and leaves the database alone', () => {
  // As nobody the service must reach the code: a checkout under a private directory (mktemp -d is 0700) can't run that way.
  const unrunnable = (c: (typeof TIERS_CASES)[number]) => c.user !== undefined && process.getuid?.() === 0 && !othersMayEnter(ROOT_DIR);
  it.skip.each(TIERS_CASES.filter(unrunnable))('$name (skipped: the checkout is in a directory others may not enter)', () => undefined);
  it.each(TIERS_CASES.filter((c) => !unrunnable(c)))('$name → exit non-zero, one line naming the file and the problem', async (c) => {
    if (c.user !== undefined && process.getuid?.() !== 0) {
      // Not root: chmod alone makes the file unreadable to the service, which runs as this user.
      c = { ...c, user: undefined, make: (f) => (writeFileSync(f, FIXTURE), chmodSync(f, 0)) };
    }
    const dir = mkdtempSync(join(root, 'tiers-'));
    chmodSync(dir, 0o755);
    // An existing database (owned by whoever runs the service) whose bytes must not change.
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    copyFileSync(realDb, join(dir, 'data', 'concierge.db'));
    const tiersFile = join(dir, 'tiers.yaml');
    c.make(tiersFile);
    const before = snapshot(join(dir, 'data'));

    const s = await start(dir, { TIERS_FILE: tiersFile }, c.user);

    expectOneClearLine(s, tiersFile, c.problem);
    expect(snapshot(join(dir, 'data'))).toEqual(before);
  }, START_TIMEOUT_MS);
});

interface DatabaseCase {
  name: string;
  make(path: string): void;
  problem: RegExp;
}

const DATABASE_CASES: DatabaseCase[] = [
  { name: 'garbage bytes', make: (f) => writeFileSync(f, Buffer.alloc(64 * 1024, 0x5a)), problem: /not a SQLite database/ },
  {
    name: 'a real database cut in half',
    make: (f) => {
      copyFileSync(realDb, f);
      truncateSync(f, Math.floor(statSync(f).size / 2));
    },
    problem: /damaged/,
  },
  {
    name: 'a database a newer release migrated',
    make: (f) => {
      copyFileSync(realDb, f);
      const db = new Database(f);
      // What a later release's migrator records: a migration this release does not ship, dated after its newest.
      db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('f'.repeat(64), Date.parse('2031-01-01T00:00:00Z'));
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
    problem: /a newer Concierge migrated it .*Run that release again, or restore/,
  },
];

describe('an unusable database file stops the start, untouched', () => {
  it.each(DATABASE_CASES)('$name → exit non-zero, one line saying what to do, the file not overwritten', async (c) => {
    const dir = mkdtempSync(join(root, 'db-'));
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    const dbFile = join(dir, 'data', 'concierge.db');
    c.make(dbFile);
    const before = sha256(dbFile);

    const s = await start(dir, { TIERS_FILE: TIERS_FIXTURE_PATH });

    expectOneClearLine(s, dbFile, c.problem);
    expect(s.output).toMatch(/restore/i);
    expect(sha256(dbFile)).toBe(before);
  }, START_TIMEOUT_MS);
});

/** A small tmpfs the test may fill, or null when this machine will not mount one (not root, no privilege). */
function mountSmallDisk(dir: string): string | null {
  if (process.getuid?.() !== 0) return null;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return null; // e.g. a container without CAP_SYS_ADMIN: the case is skipped, said in its name
  }
}

/** Writes zeros to `file` until the disk refuses (ENOSPC). */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('a full disk (a 4 MiB tmpfs; skipped where one cannot be mounted)', () => {
  let diskDir = '';
  let disk: string | null = null;
  beforeAll(() => {
    diskDir = mkdtempSync(join(tmpdir(), 'concierge-full-disk-'));
    disk = mountSmallDisk(diskDir);
  });
  afterAll(() => {
    if (disk !== null) execFileSync('umount', ['-l', diskDir], { stdio: 'ignore' });
    rmSync(diskDir, { recursive: true, force: true });
  });

  it('a webhook that cannot be stored gets 503, the service stays up, and PayPal\'s retry is stored and processed once', async (ctx) => {
    if (disk === null) return ctx.skip();
    const h = await startHarness({ env: { DATABASE_PATH: join(diskDir, 'concierge.db') } });
    try {
      const memberId = '880000000000000001';
      h.discord.addMember(memberId);
      const sub = h.paypal.createSubscription({ planId: PLAN_IDS.legendaryMonthly, customId: memberId, status: 'ACTIVE', lastPaymentTime: new Date(h.now() - 1000).toISOString() });
      const event = h.paypal.subscriptionEvent('BILLING.SUBSCRIPTION.ACTIVATED', sub.id);
      const filler = join(diskDir, 'filler');
      fillDisk(filler);

      // PayPal delivers, and retries: never a 200 for what is not durably stored.
      for (let i = 0; i < 3; i++) expect((await h.deliver(event)).status).toBe(503);
      expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
      const stored = () => h.service.store.db.select({ n: count() }).from(webhookEvents).where(eq(webhookEvents.id, event.id)).get()?.n;
      expect(stored()).toBe(0);

      rmSync(filler);
      expect((await h.deliver(event)).status).toBe(200);
      expect((await h.deliver(event)).status).toBe(200); // one more retry that was already in flight: a duplicate
      await h.settle();
      await h.waitFor(() => h.discord.member(memberId)?.includes(ROLE_IDS.legendary));
      expect(stored()).toBe(1);
      const tierChanges = h.service.store.db
        .select({ n: count() })
        .from(auditEntries)
        .where(and(eq(auditEntries.kind, 'entitlement.changed'), eq(auditEntries.memberId, memberId)))
        .get()?.n;
      expect(tierChanges).toBe(1);
      expect(h.discord.callsTo('PUT', new RegExp(`/members/${memberId}/roles/`)) + h.discord.callsTo('PATCH', new RegExp(`/members/${memberId}$`))).toBe(1);
    } finally {
      await h.close();
    }
  }, 60_000);
});
