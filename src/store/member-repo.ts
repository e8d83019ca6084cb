import { and, eq, gt, isNotNull, lte } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { members } from './schema.ts';

export type MemberRow = typeof members.$inferSelect;

export function getMember(db: DbOrTx, id: string): MemberRow | undefined {
  return db.select().from(members).where(eq(members.discordUserId, id)).get();
}

/** Creates the member row if absent; returns the row. */
export function ensureMember(db: DbOrTx, id: string, now: number): MemberRow {
  db.insert(members).values({ discordUserId: id, createdAt: now, updatedAt: now }).onConflictDoNothing().run();
  const row = getMember(db, id);
  if (row === undefined) throw new Error(`member ${id} vanished right after insert`);
  return row;
}

export function setMemberEntitlement(db: DbOrTx, id: string, e: { tier: string | null; until: number | null; source: string | null }, now: number): void {
  db.update(members).set({ entitledTier: e.tier, entitledUntil: e.until, entitledSource: e.source, updatedAt: now }).where(eq(members.discordUserId, id)).run();
}

/** Every member the store says is entitled to a tier now (entitled_tier set), for a bulk resync. */
export function listEntitledMemberIds(db: DbOrTx): string[] {
  return db.select({ id: members.discordUserId }).from(members).where(isNotNull(members.entitledTier)).all().map((r) => r.id);
}

/** Every entitled member's tier and its source (entitled_tier set), by member id: what reconciliation compares Discord's roles with. */
export function listEntitlements(db: DbOrTx): Map<string, { tier: string; source: string | null }> {
  const rows = db
    .select({ id: members.discordUserId, tier: members.entitledTier, source: members.entitledSource })
    .from(members)
    .where(isNotNull(members.entitledTier))
    .all();
  return new Map(rows.flatMap((r) => (r.tier === null ? [] : [[r.id, { tier: r.tier, source: r.source }] as const])));
}

/** Members whose computed entitlement ends in (after, upTo]: candidates for the expiry warning (app/expiry-warnings.ts). */
export function listEntitlementsEndingBetween(db: DbOrTx, after: number, upTo: number): MemberRow[] {
  return db
    .select()
    .from(members)
    .where(and(isNotNull(members.entitledTier), gt(members.entitledUntil, after), lte(members.entitledUntil, upTo)))
    .all();
}
