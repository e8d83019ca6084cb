import type { SubscriptionState } from '../core/subscription-state.ts';
import { refreshSubscriptionJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Store, Tx } from '../store/db.ts';
import { getMember } from '../store/member-repo.ts';
import { getSubscription } from '../store/subscription-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { applySubscription } from './apply-subscription.ts';
import { isNotFound, readSubscription, type PaypalReads } from './paypal-reads.ts';
import { pendingDowngrade } from '../core/entitlement.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * Reads one subscription from PayPal and applies it through the same path as
 * webhooks (applySubscription), without waiting for a webhook: used by the
 * return page when the buyer comes back from PayPal and by the
 * refresh-subscription job (refreshSubscriptionJob) while a checkout is still being approved.
 */

/**
 * Delays before each re-read while PayPal still reports the checkout as not
 * yet active. PayPal usually activates within seconds of the approval; after
 * the last round an unfinished checkout is left to the webhooks (a buyer who
 * walked away is not an error, so nothing is dead-lettered).
 */
export const REFRESH_DELAYS_MS: readonly number[] = [20_000, 40_000, 60_000, 120_000, 300_000];

/** Schedules a re-read `round`; one queued job per subscription (a second return-page hit collapses into it). */
export function enqueueRefresh(tx: Tx, subscriptionId: string, now: number, round = 0): void {
  const delay = REFRESH_DELAYS_MS[Math.min(round, REFRESH_DELAYS_MS.length - 1)] ?? 20_000;
  enqueue(tx, refreshSubscriptionJob, { subscriptionId, round }, now, { runAt: now + delay, dedupeKey: subscriptionId });
}

/** PayPal statuses of a checkout the buyer has not finished (or PayPal has not activated yet). */
const WAITING_STATUSES: ReadonlySet<string> = new Set(['APPROVAL_PENDING', 'APPROVED']);

export type RefreshResult =
  | { kind: 'unknown' }
  | { kind: 'waiting'; paypalStatus: string; known: boolean }
  | {
      kind: 'applied';
      state: SubscriptionState;
      memberId: string | null;
      /** The tier the subscription's plan buys now. */
      tierKey: string | null;
      /** After a downgrade: the tier kept until the end of the paid period. */
      carry: { tierKey: string; until: number } | null;
      /** The member's entitled tier after the change. */
      entitledTier: string | null;
    };

export interface RefreshDeps {
  store: Store;
  paypal: Pick<PaypalReads, 'getSubscription' | 'getPlan'>;
  tiers: TiersSource;
  clock: () => number;
  effects: MemberEffects;
}

/**
 * Throws (a ConciergeError with `retry`) when PayPal cannot be read; a 404
 * is an answer: PayPal does not know the id.
 */
export async function refreshFromPaypal(deps: RefreshDeps, subscriptionId: string): Promise<RefreshResult> {
  let read;
  try {
    read = await readSubscription(deps.paypal, subscriptionId);
  } catch (err) {
    if (isNotFound(err)) return { kind: 'unknown' };
    throw err;
  }
  const status = read.view.status ?? 'APPROVAL_PENDING';
  if (WAITING_STATUSES.has(status)) {
    return { kind: 'waiting', paypalStatus: status, known: getSubscription(deps.store.db, subscriptionId) !== undefined };
  }
  return deps.store.transaction((tx): RefreshResult => {
    const now = deps.clock();
    // An older read than the one stored is not applied ('stale'); the stored row answers either way.
    const catalog = deps.tiers.current();
    const r = applySubscription(tx, read, { catalog, effects: deps.effects, now, eventId: null });
    const row = getSubscription(tx, subscriptionId);
    const downgrade = row === undefined ? null : pendingDowngrade(row, catalog, now);
    const carry = downgrade === null ? null : { tierKey: downgrade.paid.key, until: downgrade.until };
    const entitledTier = r.memberId === null ? null : (getMember(tx, r.memberId)?.entitledTier ?? null);
    const state = (row?.state ?? (r.applied ? r.after : 'pending')) as SubscriptionState;
    return { kind: 'applied', state, memberId: r.memberId, tierKey: row?.tierKey ?? null, carry, entitledTier };
  });
}
