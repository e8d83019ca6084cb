import { isEmptyPlan, normaliseSerial, planSerials, type SerialPlan } from '../core/serial.ts';
import { listUnlockedScripts, type Tier, type TierCatalog } from '../core/tiers.ts';
import type { Tx } from '../store/db.ts';
import { insertSerial, listMemberSerialRows, setSerialStatus } from '../store/serial-repo.ts';
import type { SerialVault } from '../serials/serial-vault.ts';

/**
 * Keeps a member's serials in step with their tier (SPEC "Serials"): an
 * active serial for each catalogue script the tier unlocks, suspended ones
 * for the rest. Runs inside the transaction that recomputes the entitlement,
 * so a member never holds a tier without its serials or the other way round.
 */

/** A repeated draw among 31^16 serials is next to impossible; three draws turn "impossible" into "never". */
const MINT_ATTEMPTS = 3;

/** Applies what planSerials decides for `tier` (null: no access, every serial suspended). Returns the plan, empty when nothing changed. */
export function syncSerials(tx: Tx, vault: SerialVault, memberId: string, tier: Tier | null, catalog: TierCatalog, now: number): SerialPlan {
  const held = listMemberSerialRows(tx, memberId);
  const unlocked = tier === null ? [] : listUnlockedScripts(catalog, tier).map((s) => s.key);
  const plan = planSerials(held, unlocked);
  if (isEmptyPlan(plan)) return plan;
  for (const scriptKey of plan.issue) issueSerial(tx, vault, memberId, scriptKey, now);
  setSerialStatus(tx, memberId, plan.reactivate, 'active', now);
  setSerialStatus(tx, memberId, plan.suspend, 'suspended', now);
  return plan;
}

function issueSerial(tx: Tx, vault: SerialVault, memberId: string, scriptKey: string, now: number): void {
  for (let attempt = 1; attempt <= MINT_ATTEMPTS; attempt++) {
    const serial = vault.mint();
    const row = { memberId, scriptKey, lookupHash: vault.lookupHash(normaliseSerial(serial)), sealed: vault.seal(serial, { memberId, scriptKey }) };
    if (insertSerial(tx, row, now)) return;
  }
  throw new Error(`could not draw an unused serial for member ${memberId}, script ${scriptKey} in ${MINT_ATTEMPTS} attempts`);
}
