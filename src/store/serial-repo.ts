import { and, eq, inArray, isNull, notExists, notInArray, or, sql } from 'drizzle-orm';
import type { FoundSerial } from '../core/license.ts';
import type { SerialStatus } from '../core/serial.ts';
import type { DbOrTx } from './db.ts';
import { members, serials } from './schema.ts';

/**
 * The serials table. Rows carry the serial only as a keyed hash and a sealed
 * copy (store/serial-vault.ts); this module moves those bytes and never
 * sees a serial in clear.
 */

export type SerialRow = typeof serials.$inferSelect;

/** By script key: the (member_id, script_key) index gives that order for free. */
export function listMemberSerialRows(db: DbOrTx, memberId: string): SerialRow[] {
  return db.select().from(serials).where(eq(serials.memberId, memberId)).orderBy(serials.scriptKey).all();
}

/** Inserts an active serial; false when its hash is taken already (a repeated random draw: the caller draws again). */
export function insertSerial(db: DbOrTx, row: { memberId: string; scriptKey: string; lookupHash: Buffer; sealed: Buffer }, now: number): boolean {
  const inserted = db
    .insert(serials)
    .values({ ...row, status: 'active', issuedAt: now, suspendedAt: null, updatedAt: now })
    .onConflictDoNothing({ target: serials.lookupHash })
    .returning({ id: serials.id })
    .get();
  return inserted !== undefined;
}

export function setSerialStatus(db: DbOrTx, memberId: string, scriptKeys: readonly string[], status: SerialStatus, now: number): void {
  if (scriptKeys.length === 0) return;
  db.update(serials)
    .set({ status, suspendedAt: status === 'suspended' ? now : null, updatedAt: now })
    .where(and(eq(serials.memberId, memberId), inArray(serials.scriptKey, [...scriptKeys])))
    .run();
}

/** The license check's one lookup: the serial with this hash and its member's stored entitlement (unique index on lookup_hash). */
export function findSerialByHash(db: DbOrTx, lookupHash: Buffer): FoundSerial | null {
  const row = db
    .select({ scriptKey: serials.scriptKey, status: serials.status, entitledTier: members.entitledTier, entitledUntil: members.entitledUntil })
    .from(serials)
    .innerJoin(members, eq(members.discordUserId, serials.memberId))
    .where(eq(serials.lookupHash, lookupHash))
    .get();
  return row ?? null;
}

/** Any one sealed serial, to check at start that the key opens what the database holds. */
export function sampleSerialRow(db: DbOrTx): SerialRow | null {
  return db.select().from(serials).limit(1).get() ?? null;
}

/**
 * Members whose serials disagree with their stored tier under `access`
 * (script key → the tier keys that unlock it): an entitled member without an
 * active serial for a script the tier unlocks, or an active serial the tier
 * no longer unlocks (or of a script gone from the catalogue). One indexed
 * query per script, so checking every member at start costs little.
 */
export function listMembersWithSerialDrift(db: DbOrTx, access: ReadonlyMap<string, readonly string[]>): string[] {
  const out = new Set<string>();
  for (const [scriptKey, tierKeys] of access) {
    if (tierKeys.length > 0) {
      const missing = db
        .select({ id: members.discordUserId })
        .from(members)
        .where(
          and(
            inArray(members.entitledTier, [...tierKeys]),
            notExists(
              db
                .select({ one: sql`1` })
                .from(serials)
                .where(and(eq(serials.memberId, members.discordUserId), eq(serials.scriptKey, scriptKey), eq(serials.status, 'active'))),
            ),
          ),
        )
        .all();
      for (const r of missing) out.add(r.id);
    }
    const excess = db
      .select({ id: serials.memberId })
      .from(serials)
      .innerJoin(members, eq(members.discordUserId, serials.memberId))
      .where(
        and(
          eq(serials.scriptKey, scriptKey),
          eq(serials.status, 'active'),
          tierKeys.length === 0 ? sql`1` : or(isNull(members.entitledTier), notInArray(members.entitledTier, [...tierKeys])),
        ),
      )
      .all();
    for (const r of excess) out.add(r.id);
  }
  const known = [...access.keys()];
  const orphaned = db
    .select({ id: serials.memberId })
    .from(serials)
    .where(known.length === 0 ? eq(serials.status, 'active') : and(eq(serials.status, 'active'), notInArray(serials.scriptKey, known)))
    .all();
  for (const r of orphaned) out.add(r.id);
  return [...out];
}
