import { unlocks, type TierCatalog } from './tiers.ts';

/**
 * The license check's answer (SPEC "License API"), decided from what the
 * lookup by keyed hash found. Pure. Every failure is the same `{valid:false}`:
 * a caller learns nothing about which part was wrong (unknown serial, other
 * script, suspended, lapsed), so the API cannot be used to probe serials.
 */

/** The serial row the lookup found, with its member's stored entitlement. */
export interface FoundSerial {
  scriptKey: string;
  status: string;
  entitledTier: string | null;
  /** When the member's entitlement ends; null = open-ended (or none, then entitledTier is null too). */
  entitledUntil: number | null;
}

export type LicenseVerdict = { valid: true; tier: string; expiresAt: number | null } | { valid: false };

const INVALID: LicenseVerdict = { valid: false };

/**
 * Valid when the serial is active, belongs to `scriptKey`, and the member's
 * stored tier still unlocks that script now. The tier and time are checked
 * again because serials follow the entitlement at its next recompute: a
 * tiers file that raised the script's minimum tier, or an entitlement whose
 * end passed before its lapse check ran, already answers invalid.
 */
export function decideLicense(found: FoundSerial | null, scriptKey: string, catalog: TierCatalog, now: number): LicenseVerdict {
  if (found === null || found.status !== 'active' || found.scriptKey !== scriptKey) return INVALID;
  if (found.entitledTier === null || (found.entitledUntil !== null && found.entitledUntil <= now)) return INVALID;
  const tier = catalog.byKey(found.entitledTier);
  const script = catalog.file.scripts.find((s) => s.key === scriptKey);
  if (tier === undefined || script === undefined || !unlocks(catalog, tier, script)) return INVALID;
  return { valid: true, tier: tier.key, expiresAt: found.entitledUntil };
}
