import { and, asc, eq, gte, isNotNull, ne, notInArray, or, sql } from 'drizzle-orm';
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

/** Records a revocation (refund, reversal, chargeback, staff ending access now); only applySubscription lifts one, on a counted payment after it. */
export function setSubscriptionRevoked(db: DbOrTx, id: string, revoked: { at: number; reason: string }, now: number): void {
  db.update(subscriptions)
    .set({ revokedAt: revoked.at, revokedReason: revoked.reason, state: 'revoked', updatedAt: now })
    .where(eq(subscriptions.id, id))
    .run();
}

/** A subscription /subscribe just created at PayPal, before the buyer approved it. */
export interface CheckoutWrite {
  id: string;
  memberId: string;
  planId: string;
  tierKey: string;
  paypalStatus: string;
  approveUrl: string;
  /** An instant upgrade: the subscription it replaces, the prorated fee charged at approval, and when that fee's period ends. */
  upgrade?: { from: string; fee: string; currency: string; until: number };
}

/**
 * Stores a checkout as pending. The row may exist already: PayPal answers a
 * repeated PayPal-Request-Id with the same subscription, and its CREATED
 * webhook may have been processed first. Then only the approve link is added
 * (and an abandoned checkout offered again is pending again); what PayPal
 * reported is left alone.
 */
export function recordCheckout(db: DbOrTx, c: CheckoutWrite, now: number): void {
  const { upgrade, ...checkout } = c;
  const terms = upgrade === undefined ? {} : { upgradeFrom: upgrade.from, upgradeFee: upgrade.fee, upgradeCurrency: upgrade.currency, upgradeUntil: upgrade.until };
  db.insert(subscriptions)
    .values({ ...checkout, ...terms, customId: c.memberId, state: 'pending', createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: subscriptions.id,
      set: {
        approveUrl: c.approveUrl,
        memberId: sql`coalesce(${subscriptions.memberId}, excluded.member_id)`,
        state: sql`case when ${subscriptions.state} = 'abandoned' then 'pending' else ${subscriptions.state} end`,
        updatedAt: now,
      },
    })
    .run();
}

/**
 * Pending checkouts whose approve link carries `token` as a query value (the
 * `ba_token` PayPal hands back on its cancel redirect). `instr` rather than
 * LIKE, so the token needs no escaping; the caller checks the exact parameter.
 */
export function listPendingWithApproveToken(db: DbOrTx, token: string): SubscriptionRow[] {
  return db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.state, 'pending'), isNotNull(subscriptions.approveUrl), sql`instr(${subscriptions.approveUrl}, ${`=${token}`}) > 0`))
    .all();
}

/** Marks a checkout the buyer walked away from; only a pending one. True when a row changed. */
export function markSubscriptionAbandoned(db: DbOrTx, id: string, now: number): boolean {
  const r = db
    .update(subscriptions)
    .set({ state: 'abandoned', updatedAt: now })
    .where(and(eq(subscriptions.id, id), eq(subscriptions.state, 'pending')))
    .run();
  return r.changes > 0;
}

/**
 * Reconciliation's list: subscriptions whose PayPal status can still change
 * (not CANCELLED or EXPIRED at PayPal, which are final there), in id order.
 * A checkout left pending since before `pendingSince` is left out: PayPal
 * keeps an unapproved subscription pending for good, and should the buyer
 * approve it after all, its webhook (or the events backfill) brings it in.
 */
export function listReconcilableSubscriptionIds(db: DbOrTx, o: { pendingSince: number }): string[] {
  return db
    .select({ id: subscriptions.id })
    .from(subscriptions)
    .where(
      and(
        notInArray(subscriptions.paypalStatus, ['CANCELLED', 'EXPIRED']),
        ne(subscriptions.state, 'abandoned'),
        or(ne(subscriptions.state, 'pending'), gte(subscriptions.createdAt, o.pendingSince)),
      ),
    )
    .orderBy(asc(subscriptions.id))
    .all()
    .map((r) => r.id);
}
