import { isEmptyPlan, normaliseSerial, planSerials, type SerialPlan } from '../core/serial.ts';
import { unlockedScripts, unlocks, type Tier, type TierCatalog } from '../core/tiers.ts';
import type { Logger } from '../log.ts';
import type { Store, Tx } from '../store/db.ts';
import { getMember } from '../store/member-repo.ts';
import { insertSerial, listMemberSerialRows, listMembersWithSerialDrift, setSerialStatus } from '../store/serial-repo.ts';
import { serialVaultOf } from '../store/serial-vault.ts';
import type { TiersSource } from '../tiers.ts';

/**
 * Keeps a member's serials in step with their tier (SPEC "Serials"): an
 * active serial for each catalogue script the tier unlocks, suspended ones
 * for the rest. Runs inside the transaction that recomputes the entitlement,
 * so a member never holds a tier without its serials or the other way round.
 */

/** A repeated draw among 31^16 serials is next to impossible; three draws turn "impossible" into "never". */
const MINT_ATTEMPTS = 3;

/** Applies what planSerials decides for `tier` (null: no access, every serial suspended). Returns the plan, empty when nothing changed. */
export function syncSerials(tx: Tx, memberId: string, tier: Tier | null, catalog: TierCatalog, now: number): SerialPlan {
  const held = listMemberSerialRows(tx, memberId);
  const unlocked = tier === null ? [] : unlockedScripts(catalog, tier).map((s) => s.key);
  const plan = planSerials(held, unlocked);
  if (isEmptyPlan(plan)) return plan;
  for (const scriptKey of plan.issue) issueSerial(tx, memberId, scriptKey, now);
  setSerialStatus(tx, memberId, plan.reactivate, 'active', now);
  setSerialStatus(tx, memberId, plan.suspend, 'suspended', now);
  return plan;
}

function issueSerial(tx: Tx, memberId: string, scriptKey: string, now: number): void {
  const vault = serialVaultOf(tx);
  for (let attempt = 1; attempt <= MINT_ATTEMPTS; attempt++) {
    const serial = vault.mint();
    const row = { memberId, scriptKey, lookupHash: vault.lookupHash(normaliseSerial(serial)), sealed: vault.seal(serial, { memberId, scriptKey }) };
    if (insertSerial(tx, row, now)) return;
  }
  throw new Error(`could not draw an unused serial for member ${memberId}, script ${scriptKey} in ${MINT_ATTEMPTS} attempts`);
}

/** Members synced per transaction: short write locks, so webhooks and jobs interleave with a large backfill. */
const BATCH = 500;

/**
 * Brings every member's serials in line with their stored tier under
 * `catalog`: at start (members entitled before serials existed, a tiers
 * file edited while stopped) and after a tiers file change (a script added,
 * or its minimum tier moved). Only members whose serials disagree are
 * touched. Returns how many were.
 */
export function reconcileSerials(store: Store, catalog: TierCatalog, now: number): number {
  const access = new Map(catalog.file.scripts.map((s) => [s.key, catalog.tiers.filter((t) => unlocks(catalog, t, s)).map((t) => t.key)]));
  const drifted = listMembersWithSerialDrift(store.db, access);
  for (let i = 0; i < drifted.length; i += BATCH) {
    store.transaction((tx) => {
      for (const memberId of drifted.slice(i, i + BATCH)) {
        const tierKey = getMember(tx, memberId)?.entitledTier ?? null;
        syncSerials(tx, memberId, tierKey === null ? null : (catalog.byKey(tierKey) ?? null), catalog, now);
      }
    });
  }
  return drifted.length;
}

/**
 * Reconciles now (members entitled before serials existed, a tiers file
 * edited while stopped) and after every accepted tiers file change. A
 * failure after a change is logged, not thrown: the tiers watcher's other
 * listeners (command registration, role resync) still run, and each
 * member's serials follow at their next recompute anyway.
 */
export function keepSerialsInLine(deps: { store: Store; tiers: Pick<TiersSource, 'current' | 'onChange'>; clock: () => number; log: Logger }): void {
  const run = (catalog: TierCatalog) => {
    const members = reconcileSerials(deps.store, catalog, deps.clock());
    if (members > 0) deps.log.info({ members }, 'serials brought in line with the tiers file');
  };
  run(deps.tiers.current());
  deps.tiers.onChange((catalog) => {
    try {
      run(catalog);
    } catch (err) {
      deps.log.error({ err }, "serials could not be brought in line with the new tiers file; each member's follow at their next change");
    }
  });
}
