import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as cli } from '../helpers/cli.ts';
import { testEnv } from '../helpers/harness.ts';

/**
 * `npx concierge migrate` and `npx concierge doctor` as an operator runs them
 * (the CLI from source, in a directory of their own), and .env loading: read from
 * the working directory when present, the environment winning over it.
 * doctor on file permissions: cli-doctor.test.ts.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const JOURNAL = JSON.parse(readFileSync(join(ROOT, 'migrations/meta/_journal.json'), 'utf8')) as { entries: unknown[] };
let base: string;
let n = 0;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'concierge-cli-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A fresh working directory, with a .env written from `dotenv` when given (mode 0600, as doctor wants it). */
function workdir(dotenv?: Record<string, string | undefined>): string {
  const dir = join(base, `wd-${++n}`);
  mkdirSync(dir);
  if (dotenv !== undefined) writeFileSync(join(dir, '.env'), Object.entries(dotenv).map(([k, v]) => `${k}=${v ?? ''}\n`).join(''), { mode: 0o600 });
  return dir;
}

const tables = (path: string): string[] => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
};

// Each command is a child process that transforms TypeScript (tsx): seconds on a busy 2-core machine.
describe('concierge migrate', { timeout: 60_000 }, () => {
  it('creates the database with every migration applied, and a second run changes nothing', async () => {
    const dir = workdir();
    const path = join(dir, 'data', 'concierge.db');
    const first = await cli(['migrate'], dir, { DATABASE_PATH: path });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`database ${path} is up to date (${JOURNAL.entries.length} migration(s) applied)\n`);
    expect(tables(path)).toEqual(expect.arrayContaining(['audit_entries', 'grants', 'jobs', 'members', 'payments', 'subscriptions', 'webhook_events', 'webhook_transmissions']));
    const again = await cli(['migrate'], dir, { DATABASE_PATH: path });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
  });

  it('reads DATABASE_PATH from .env in the working directory; the environment wins over it', async () => {
    const dir = workdir({ DATABASE_PATH: './from-dotenv.db' });
    const fromFile = await cli(['migrate'], dir);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain('database ./from-dotenv.db is up to date');
    const fromEnv = await cli(['migrate'], dir, { DATABASE_PATH: join(dir, 'from-env.db') });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(`database ${join(dir, 'from-env.db')} is up to date`);
  });
});

describe('concierge doctor', { timeout: 60_000 }, () => {
  const goodEnv = (dir: string) => testEnv('https://127.0.0.1:9', join(dir, 'data', 'concierge.db'));

  it('passes a good configuration from .env: names the tiers in rank order and the database', async () => {
    const dir = workdir(goodEnv(join(base, 'good')));
    const r = await cli(['doctor', '--offline'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        `tiers file ${goodEnv('').TIERS_FILE}: Elite < Legendary < Titan < Warlord`,
        `database ${join(base, 'good', 'data', 'concierge.db')}: writable, migrations applied`,
        'PayPal and Discord: not checked (--offline)',
        'all checks passed',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
  });

  it('names every problem at once and exits 1: variables, the tiers file and the database', async () => {
    const dir = workdir();
    const tiers = join(dir, 'tiers.yaml');
    writeFileSync(tiers, 'tiers:\n  - key: elite\n    rank: one\n');
    writeFileSync(join(dir, 'not-a-dir'), '');
    const env = { ...goodEnv(dir), TIERS_FILE: tiers, DATABASE_PATH: join(dir, 'not-a-dir', 'concierge.db'), PAYPAL_MODE: 'production', DISCORD_TOKEN: undefined };
    const r = await cli(['doctor', '--offline'], dir, env);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('all checks passed');
    const listed = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(r.stderr).toContain(`${listed.length} problem(s):`);
    for (const name of ['DISCORD_TOKEN', 'PAYPAL_MODE', `${tiers}:`, `DATABASE_PATH ${join(dir, 'not-a-dir', 'concierge.db')}`]) {
      expect(listed.some((l) => l.includes(name)), `${name} in\n${r.stderr}`).toBe(true);
    }
  });
});
