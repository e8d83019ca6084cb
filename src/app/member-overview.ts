import type { MemberFacts } from '../core/member-summary.ts';
import type { Store } from '../store/db.ts';
import { listMemberGrants, type GrantRow } from '../store/grant-repo.ts';
import { latestPayment, type PaymentRow } from '../store/payment-repo.ts';
import { listMemberSubscriptions, type SubscriptionRow } from '../store/subscription-repo.ts';

/** Everything /status, /scripts and /cancel read about one member. */
export interface MemberOverview extends MemberFacts {
  subscriptions: SubscriptionRow[];
  grants: GrantRow[];
  lastPayment: PaymentRow | null;
}

/**
 * Reads a member's subscriptions, grants and latest payment: three indexed
 * lookups (subscriptions by member_id, grants by member_id, payments by
 * subscription_id), no PayPal call, so the command can answer without a defer.
 * A deferred (read) transaction gives the three one snapshot without taking
 * the write lock that store.transaction() takes.
 */
export function readMemberOverview(store: Pick<Store, 'db'>, memberId: string): MemberOverview {
  return store.db.transaction(
    (tx) => {
      const subscriptions = listMemberSubscriptions(tx, memberId);
      const grants = listMemberGrants(tx, memberId);
      const lastPayment = latestPayment(tx, subscriptions.map((s) => s.id)) ?? null;
      return { subscriptions, grants, lastPayment };
    },
    { behavior: 'deferred' },
  );
}
