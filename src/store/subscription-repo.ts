import { eq } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { subscriptions } from './schema.ts';

export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type SubscriptionWrite = Omit<typeof subscriptions.$inferInsert, 'createdAt' | 'updatedAt'>;

export function getSubscription(db: DbOrTx, id: string): SubscriptionRow | undefined {
  return db.select().from(subscriptions).where(eq(subscriptions.id, id)).get();
}

export function listMemberSubscriptions(db: DbOrTx, memberId: string): SubscriptionRow[] {
  return db.select().from(subscriptions).where(eq(subscriptions.memberId, memberId)).all();
}

export function upsertSubscription(db: DbOrTx, row: SubscriptionWrite, now: number): void {
  const { id: _id, ...update } = row;
  db.insert(subscriptions)
    .values({ ...row, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: subscriptions.id, set: { ...update, updatedAt: now } })
    .run();
}

export function setSubscriptionRevoked(db: DbOrTx, id: string, revoked: { at: number; reason: string } | null, now: number): void {
  db.update(subscriptions)
    .set(revoked === null ? { revokedAt: null, revokedReason: null, updatedAt: now } : { revokedAt: revoked.at, revokedReason: revoked.reason, state: 'revoked', updatedAt: now })
    .where(eq(subscriptions.id, id))
    .run();
}
