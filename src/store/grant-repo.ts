import { eq } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { grants } from './schema.ts';

export type GrantRow = typeof grants.$inferSelect;

export function listMemberGrants(db: DbOrTx, memberId: string): GrantRow[] {
  return db.select().from(grants).where(eq(grants.memberId, memberId)).all();
}

/** Only the test harness grants today; kept for issue 14's `/admin grant` (staff comp grants), which records them through here. */
export function insertGrant(db: DbOrTx, g: Omit<typeof grants.$inferInsert, 'id' | 'createdAt'>, now: number): number {
  const row = db.insert(grants).values({ ...g, createdAt: now }).returning({ id: grants.id }).get();
  return row.id;
}
