import { and, desc, eq, notInArray } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { auditEntries } from './schema.ts';

export type AuditRow = typeof auditEntries.$inferSelect;
export type AuditWrite = Omit<typeof auditEntries.$inferInsert, 'id'>;

/** Inserts an audit entry; with a dedupeKey already present returns null (a retried job records once). */
export function insertAudit(db: DbOrTx, entry: AuditWrite): number | null {
  const row = db.insert(auditEntries).values(entry).onConflictDoNothing().returning({ id: auditEntries.id }).get();
  return row?.id ?? null;
}

export function getAudit(db: DbOrTx, id: number): AuditRow | undefined {
  return db.select().from(auditEntries).where(eq(auditEntries.id, id)).get();
}

/** A member's latest audit entries, newest first (audit_member_idx), leaving out the kinds given. */
export function listMemberAudit(db: DbOrTx, memberId: string, limit: number, exceptKinds: readonly string[] = []): AuditRow[] {
  const where = exceptKinds.length === 0 ? eq(auditEntries.memberId, memberId) : and(eq(auditEntries.memberId, memberId), notInArray(auditEntries.kind, [...exceptKinds]));
  return db.select().from(auditEntries).where(where).orderBy(desc(auditEntries.id)).limit(limit).all();
}
