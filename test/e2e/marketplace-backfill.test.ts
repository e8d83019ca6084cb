import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMemberOverview } from '../../src/app/member-overview.ts';
import { marketplaceMemberJob } from '../../src/jobs/definitions.ts';
import { createMarketplaceStandIn, type MarketplaceStandIn } from '../../src/stand-ins/marketplace/server.ts';
import { ensureMember } from '../../src/store/member-repo.ts';
import { jobs, members } from '../../src/store/schema.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { ROLE_IDS, SCRIPT_KEYS } from '../helpers/tiers.ts';

/**
 * A community that runs without a marketplace and configures one later: at
 * the first start with MARKETPLACE_API_URL set, every member the marketplace
 * should know of is sent once, with their state as it is now; a second start
 * sends nothing again.
 */

let dir: string;
let dbPath: string;
let market: MarketplaceStandIn;
const paying = '350000000000000001';
const legendary = '350000000000000002';
const lapsed = '350000000000000003';
const never = '350000000000000004';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concierge-backfill-'));
  dbPath = join(dir, 'concierge.db');
  market = await createMarketplaceStandIn({ now: () => Date.now() });
});
afterAll(async () => {
  await market.close();
  rmSync(dir, { recursive: true, force: true });
});

const withMarketplace = () => ({ DATABASE_PATH: dbPath, MARKETPLACE_API_URL: market.url, MARKETPLACE_API_KEY: market.key });
const memberPuts = () => market.callsTo(/^\/v1\/members\//);
const row = (h: Harness, id: string) => h.service.store.db.select().from(members).where(eq(members.discordUserId, id)).get();

describe('switching the marketplace sync on', () => {
  it('sends each member the marketplace should hold, once, with their current state; a restart sends nothing more', async () => {
    const off = await startHarness({ env: { DATABASE_PATH: dbPath } });
    let serials: Record<string, string>;
    try {
      for (const id of [paying, legendary, lapsed]) off.discord.addMember(id);
      off.grantTier(paying, 'elite', null);
      off.grantTier(legendary, 'legendary', null);
      off.grantTier(lapsed, 'elite', off.now() + 60_000);
      off.service.store.transaction((tx) => void ensureMember(tx, never, off.now()));
      await off.waitFor(() => off.discord.member(legendary)?.includes(ROLE_IDS.legendary));
      off.advance(120_000);
      await off.waitFor(() => row(off, lapsed)?.entitledTier === null);
      await off.settle();
      const shown = (id: string) => readMemberOverview({ store: off.service.store, vault: off.service.effects.vault }, id).serials;
      serials = Object.fromEntries([paying, legendary, lapsed].flatMap((id) => shown(id).map((s) => [`${id} ${s.scriptKey}`, s.serial])));
    } finally {
      await off.close();
    }
    expect(market.calls).toEqual([]);

    const on = await startHarness({ env: withMarketplace() });
    try {
      await on.waitFor(() => memberPuts().length >= 3, 10_000);
      await on.settle();
      expect(memberPuts().map((c) => [c.path, c.status, c.signature]).sort()).toEqual(
        [paying, legendary, lapsed].map((id) => [`/v1/members/${id}`, 200, 'ok']).sort(),
      );
      const script = (id: string, key: string, active: boolean) => ({ key, serial: serials[`${id} ${key}`], active });
      expect(market.member(paying)).toEqual({ tier: 'elite', scripts: [script(paying, SCRIPT_KEYS.starter, true)], version: expect.any(Number) });
      expect(market.member(legendary)).toEqual({
        tier: 'legendary',
        scripts: [script(legendary, SCRIPT_KEYS.advanced, true), script(legendary, SCRIPT_KEYS.starter, true)],
        version: expect.any(Number),
      });
      expect(market.member(lapsed)).toEqual({ tier: null, scripts: [script(lapsed, SCRIPT_KEYS.starter, false)], version: expect.any(Number) });
      expect(market.member(never)).toBeUndefined();
      for (const id of [paying, legendary, lapsed]) expect(row(on, id)?.marketplaceSyncedVersion).toBe(row(on, id)?.marketplaceVersion);
    } finally {
      await on.close();
    }

    const again = await startHarness({ env: withMarketplace() });
    try {
      // The backfill runs in the background after start: give it a moment, then let the queue drain.
      await new Promise((r) => setTimeout(r, 500));
      await again.settle();
      expect(memberPuts()).toHaveLength(3);
      expect(again.service.store.db.select().from(jobs).where(eq(jobs.kind, marketplaceMemberJob.kind)).all().filter((j) => j.status !== 'done')).toEqual([]);
    } finally {
      await again.close();
    }
  }, 60_000);
});
