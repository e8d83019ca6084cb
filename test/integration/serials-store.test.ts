import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { readMemberOverview } from '../../src/app/member-overview.ts';
import { recomputeMember } from '../../src/app/recompute-member.ts';
import { reconcileSerials } from '../../src/app/reconcile-serials.ts';
import { syncSerials } from '../../src/app/sync-serials.ts';
import { verifyLicense } from '../../src/app/verify-license.ts';
import { SERIAL_PATTERN } from '../../src/core/serial.ts';
import { buildCatalog } from '../../src/core/tiers.ts';
import { ConciergeError } from '../../src/errors.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { insertGrant } from '../../src/store/grant-repo.ts';
import { ensureMember, setMemberEntitlement } from '../../src/store/member-repo.ts';
import { members, serials } from '../../src/store/schema.ts';
import type { MemberEffects } from '../../src/app/member-effects.ts';
import { openSerialVault, SERIAL_KEY_FILE } from '../../src/serials/serial-key.ts';
import { createSerialVault } from '../../src/serials/serial-vault.ts';
import { SCRIPT_KEYS, testCatalog } from '../helpers/tiers.ts';

/**
 * Serials on real SQLite: issued, suspended and reactivated through the
 * entitlement recompute, stored only as a keyed hash and a sealed copy, the
 * key kept outside the database and checked against it at open.
 */

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-15T12:00:00Z');
const catalog = testCatalog();
const SECRET = Buffer.alloc(32, 0x5a);
const OTHER_SECRET = Buffer.alloc(32, 0xa5);
const MEMBER = '300000000000000001';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-serials-'));
  dirs.push(dir);
  return dir;
}

/** A store and the serial key it was opened with, as service.ts pairs them (marketplace sync off). */
type Keyed = Store & { effects: MemberEffects };

function open(databasePath = ':memory:', secret: Buffer | null = SECRET): Keyed {
  const store = openStore(databasePath);
  stores.push(store);
  return { ...store, effects: { vault: openSerialVault(store, { secret, databasePath }), marketplaceSync: false } };
}

/** A staff grant of `tierKey` from `from` until `until`, and the recompute that follows, as staff commands do it. */
function grant(store: Keyed, tierKey: string, from: number, until: number | null): void {
  store.transaction((tx) => {
    ensureMember(tx, MEMBER, from);
    insertGrant(tx, { memberId: MEMBER, tierKey, grantedBy: 'test', reason: 'test', startsAt: from, expiresAt: until }, from);
    recomputeMember(tx, store.effects, MEMBER, catalog, from, { reason: 'grant' });
  });
}

const recompute = (store: Keyed, at: number) => store.transaction((tx) => void recomputeMember(tx, store.effects, MEMBER, catalog, at, { reason: 'lapse check' }));
const shown = (store: Keyed) => Object.fromEntries(readMemberOverview({ store, vault: store.effects.vault }, MEMBER).serials.map((s) => [s.scriptKey, `${s.status} ${s.serial}`]));
const verify = (store: Keyed, serial: string, script: string, at: number) => verifyLicense({ store, vault: store.effects.vault, tiers: { current: () => catalog }, clock: () => at }, { serial, script });

describe('serials through the entitlement recompute', () => {
  it('issued when access starts, suspended when it ends, the same serial active again when the member returns; an upgrade adds one', () => {
    const store = open();
    grant(store, 'elite', NOW, NOW + 7 * DAY);
    const first = readMemberOverview({ store, vault: store.effects.vault }, MEMBER).serials;
    expect(first.map((s) => [s.scriptKey, s.status])).toEqual([[SCRIPT_KEYS.starter, 'active']]);
    const starter = first[0]?.serial ?? '';
    expect(starter).toMatch(SERIAL_PATTERN);
    expect(verify(store, starter, SCRIPT_KEYS.starter, NOW + DAY)).toEqual({ valid: true, tier: 'elite', expiresAt: NOW + 7 * DAY });

    recompute(store, NOW + 8 * DAY);
    expect(shown(store)).toEqual({ [SCRIPT_KEYS.starter]: `suspended ${starter}` });
    expect(verify(store, starter, SCRIPT_KEYS.starter, NOW + 8 * DAY)).toEqual({ valid: false });

    grant(store, 'legendary', NOW + 9 * DAY, null);
    const back = shown(store);
    expect(back[SCRIPT_KEYS.starter]).toBe(`active ${starter}`);
    expect(back[SCRIPT_KEYS.advanced]).toMatch(/^active CNC-/);
    expect(verify(store, starter.toLowerCase(), ` ${SCRIPT_KEYS.starter.toUpperCase()} `, NOW + 9 * DAY)).toEqual({ valid: true, tier: 'legendary', expiresAt: null });
  });

  it('never stores a serial in clear: not in its row, not anywhere in the database file', () => {
    const dir = tempDir();
    const path = join(dir, 'concierge.db');
    const store = open(path);
    grant(store, 'legendary', NOW, null);
    const issued = readMemberOverview({ store, vault: store.effects.vault }, MEMBER).serials.map((s) => s.serial);
    expect(issued).toHaveLength(2);
    store.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = Buffer.concat([readFileSync(path), readFileSync(`${path}-wal`)]);
    for (const serial of issued) {
      expect(bytes.includes(serial)).toBe(false);
      expect(bytes.includes(serial.replace(/-/g, ''))).toBe(false);
    }
    for (const row of store.db.select().from(serials).all()) expect(row.lookupHash).toHaveLength(32);
  });

  it('a sealed serial moved to another member does not open (bound to member and script)', () => {
    const store = open();
    grant(store, 'elite', NOW, null);
    const row = store.db.select().from(serials).get();
    if (row === undefined) throw new Error('no serial issued');
    store.transaction((tx) => {
      ensureMember(tx, '300000000000000002', NOW);
      tx.update(serials).set({ memberId: '300000000000000002' }).where(eq(serials.id, row.id)).run();
    });
    expect(() => readMemberOverview({ store, vault: store.effects.vault }, '300000000000000002')).toThrow();
  });
});

describe('the key', () => {
  it('without SERIAL_SECRET: a key file next to the database, 0600, created once and reused', () => {
    const dir = tempDir();
    const path = join(dir, 'concierge.db');
    const store = open(path, null);
    grant(store, 'elite', NOW, null);
    const serial = readMemberOverview({ store, vault: store.effects.vault }, MEMBER).serials[0]?.serial ?? '';
    const keyFile = join(dir, SERIAL_KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    store.close();
    stores.splice(stores.indexOf(store), 1);

    chmodSync(keyFile, 0o644);
    const again = open(path, null);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(verify(again, serial, SCRIPT_KEYS.starter, NOW).valid).toBe(true);
  });

  it('a database whose serials were sealed under another key does not start, and says how to fix it', () => {
    const dir = tempDir();
    const path = join(dir, 'concierge.db');
    const store = open(path);
    grant(store, 'elite', NOW, null);
    store.close();
    stores.splice(stores.indexOf(store), 1);

    let thrown: unknown;
    try {
      open(path, OTHER_SECRET);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConciergeError);
    expect((thrown as ConciergeError).code).toBe('serial_key_mismatch');
    expect((thrown as Error).message).toMatch(/SERIAL_SECRET.*serial\.key/);
  });

  it('a garbled key file stops the start naming the file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, SERIAL_KEY_FILE), 'short\n', { mode: 0o600 });
    expect(() => open(join(dir, 'concierge.db'), null)).toThrow(new RegExp(`${SERIAL_KEY_FILE}.*SERIAL_SECRET`));
  });

  it('the same serial under another key is unknown: a stolen database cannot be used to test serials', () => {
    const store = open();
    grant(store, 'elite', NOW, null);
    const serial = readMemberOverview({ store, vault: store.effects.vault }, MEMBER).serials[0]?.serial ?? '';
    expect(verify(store, serial, SCRIPT_KEYS.starter, NOW).valid).toBe(true);
    // The thief's copy opened under their own key (openSerialVault itself would refuse it: the key does not open the rows).
    const stolen: Keyed = { ...store, effects: { vault: createSerialVault(OTHER_SECRET), marketplaceSync: false } };
    expect(verify(stolen, serial, SCRIPT_KEYS.starter, NOW)).toEqual({ valid: false });
  });
});

describe('reconcileSerials', () => {
  it('issues for members entitled before serials existed, suspends what a tier no longer unlocks, then finds nothing to do', () => {
    const store = open();
    const entitled = '300000000000000010';
    const lapsed = '300000000000000011';
    store.transaction((tx) => {
      ensureMember(tx, entitled, NOW);
      setMemberEntitlement(tx, entitled, { tier: 'legendary', until: null, source: 'grant:1' }, NOW);
      ensureMember(tx, lapsed, NOW);
      setMemberEntitlement(tx, lapsed, { tier: 'elite', until: null, source: 'grant:2' }, NOW);
      syncSerials(tx, store.effects.vault, lapsed, catalog.byKey('elite') ?? null, catalog, NOW);
      setMemberEntitlement(tx, lapsed, { tier: null, until: null, source: null }, NOW);
    });
    expect(reconcileSerials(store, store.effects, catalog, NOW)).toBe(2);
    const statuses = (id: string) => store.db.select({ script: serials.scriptKey, status: serials.status }).from(serials).where(eq(serials.memberId, id)).all();
    expect(statuses(entitled).sort((a, b) => a.script.localeCompare(b.script))).toEqual([
      { script: SCRIPT_KEYS.advanced, status: 'active' },
      { script: SCRIPT_KEYS.starter, status: 'active' },
    ]);
    expect(statuses(lapsed)).toEqual([{ script: SCRIPT_KEYS.starter, status: 'suspended' }]);
    expect(reconcileSerials(store, store.effects, catalog, NOW)).toBe(0);

    // The tiers file raises the advanced scripts to titan and drops the starter ones.
    const edited = buildCatalog({ ...catalog.file, scripts: [{ key: SCRIPT_KEYS.advanced, name: 'Advanced Scripts', min_tier: 'titan' }] });
    expect(reconcileSerials(store, store.effects, edited, NOW)).toBe(1);
    expect(statuses(entitled).every((s) => s.status === 'suspended')).toBe(true);
    expect(store.db.select().from(members).where(eq(members.discordUserId, entitled)).get()?.entitledTier).toBe('legendary');
  });
});
