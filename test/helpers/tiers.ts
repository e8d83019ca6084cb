import { fileURLToPath } from 'node:url';
import type { TierCatalog } from '../../src/core/tiers.ts';
import { readTiersFile } from '../../src/tiers.ts';
import type { PlanSpec } from '../../src/stand-ins/paypal/state.ts';

/**
 * The shared tiers fixture (test/fixtures/tiers.yaml) and its values, so tests
 * name tiers, roles and plans through constants instead of repeating strings.
 */

export const TIERS_FIXTURE_PATH = fileURLToPath(new URL('../fixtures/tiers.yaml', import.meta.url));

export const TIER_KEYS = { elite: 'elite', legendary: 'legendary', titan: 'titan', warlord: 'warlord' } as const;
export type TestTierKey = keyof typeof TIER_KEYS;

/** Lowest rank first, as the catalog sorts them. */
export const TIER_ORDER: readonly TestTierKey[] = ['elite', 'legendary', 'titan', 'warlord'];

export const ROLE_IDS = {
  elite: '100000000000000001',
  legendary: '100000000000000002',
  titan: '100000000000000003',
  warlord: '100000000000000004',
} as const satisfies Record<TestTierKey, string>;

export const PLAN_IDS = {
  eliteMonthly: 'P-ELITE0MONTHLY00000000001',
  legendaryMonthly: 'P-LEGENDARY0MONTHLY0000001',
  titanMonthly: 'P-TITAN0MONTHLY00000000001',
  titanYearly: 'P-TITAN0YEARLY000000000001',
  warlordMonthly: 'P-WARLORD0MONTHLY000000001',
} as const;

/**
 * The fixture's plans as the PayPal stand-in sells them, at the prices
 * tiers.yaml shows members, so an amount a test sees is the one a member pays.
 */
export const FIXTURE_PLANS: PlanSpec[] = [
  { id: PLAN_IDS.eliteMonthly, name: 'Elite Monthly', intervalUnit: 'MONTH', intervalCount: 1, price: '4.99', currency: 'USD' },
  { id: PLAN_IDS.legendaryMonthly, name: 'Legendary Monthly', intervalUnit: 'MONTH', intervalCount: 1, price: '9.99', currency: 'USD' },
  { id: PLAN_IDS.titanMonthly, name: 'Titan Monthly', intervalUnit: 'MONTH', intervalCount: 1, price: '19.99', currency: 'USD' },
  { id: PLAN_IDS.titanYearly, name: 'Titan Yearly', intervalUnit: 'YEAR', intervalCount: 1, price: '199.99', currency: 'USD' },
  { id: PLAN_IDS.warlordMonthly, name: 'Warlord Monthly', intervalUnit: 'MONTH', intervalCount: 1, price: '49.99', currency: 'USD' },
];

export const SCRIPT_KEYS = { starter: 'starter-scripts', advanced: 'advanced-scripts' } as const;

export const STAFF_ROLE_ID = '200000000000000001';

/** A plan id that no tier of the fixture sells. */
export const UNKNOWN_PLAN_ID = 'P-NOTINTHEFILE000000000001';

/** The fixture's catalog, freshly read (callers may not mutate shared state). */
export function testCatalog(): TierCatalog {
  return readTiersFile(TIERS_FIXTURE_PATH);
}
