import { and, eq, gt, isNull, or } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { grants } from './schema.ts';

export type GrantRow = typeof grants.$inferSelect;

export function listMemberGrants(db: DbOrTx, memberId: string): GrantRow[] {
  return db.select().from(grants).where(eq(grants.memberId, memberId)).all();
}

export function getGrant(db: DbOrTx, id: number): GrantRow | undefined {
  return db.select().from(grants).where(eq(grants.id, id)).get();
}

/** Records a staff grant (`/admin grant`, goodwill from `/admin extend`); returns its id. */
export function insertGrant(db: DbOrTx, g: Omit<typeof grants.$inferInsert, 'id' | 'createdAt'>, now: number): number {
  const row = db.insert(grants).values({ ...g, createdAt: now }).returning({ id: grants.id }).get();
  return row.id;
}

export function setGrantExpiry(db: DbOrTx, id: number, expiresAt: number | null): void {
  db.update(grants).set({ expiresAt }).where(eq(grants.id, id)).run();
}

/**
 * Ends every grant of the member that has not ended yet (running or still to
 * start), at `now`; returns their ids. Ended grants keep their row, so the
 * lookup still shows who granted what.
 */
export function revokeMemberGrants(db: DbOrTx, memberId: string, now: number): number[] {
  return db
    .update(grants)
    .set({ revokedAt: now })
    .where(and(eq(grants.memberId, memberId), isNull(grants.revokedAt), or(isNull(grants.expiresAt), gt(grants.expiresAt, now))))
    .returning({ id: grants.id })
    .all()
    .map((r) => r.id);
}
