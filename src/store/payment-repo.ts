import { and, desc, eq, gt, inArray, isNotNull } from 'drizzle-orm';
import type { DbOrTx } from './db.ts';
import { payments } from './schema.ts';

export type PaymentRow = typeof payments.$inferSelect;
export type PaymentState = 'completed' | 'partially_refunded' | 'refunded' | 'reversed' | 'disputed';

/** Records a completed sale once; returns false when it was already known. */
export function insertPayment(db: DbOrTx, p: Omit<typeof payments.$inferInsert, 'createdAt'>, now: number): boolean {
  return db.insert(payments).values({ ...p, createdAt: now }).onConflictDoNothing().run().changes === 1;
}

export function getPayment(db: DbOrTx, id: string): PaymentRow | undefined {
  return db.select().from(payments).where(eq(payments.id, id)).get();
}

export function setPaymentState(db: DbOrTx, id: string, state: Exclude<PaymentState, 'completed'>, at: number): void {
  db.update(payments).set({ state, refundedAt: at }).where(eq(payments.id, id)).run();
}

/** The most recent sale of any of these subscriptions (payments_subscription_idx, then a sort of a member's few sales). */
export function latestPayment(db: DbOrTx, subscriptionIds: readonly string[]): PaymentRow | undefined {
  if (subscriptionIds.length === 0) return undefined;
  return db.select().from(payments).where(inArray(payments.subscriptionId, [...subscriptionIds])).orderBy(desc(payments.paidAt)).limit(1).get();
}

/** A subscription's sales PayPal lists as paid after a time, that paid for a plan (reached its price). */
export function paidPlanSalesAfter(db: DbOrTx, subscriptionId: string, after: number): PaymentRow[] {
  return db
    .select()
    .from(payments)
    .where(and(eq(payments.subscriptionId, subscriptionId), gt(payments.paidAt, after), inArray(payments.state, ['completed', 'partially_refunded']), isNotNull(payments.tierKey)))
    .all();
}
