import { accessFrom, isCancellable, planCancel, type CancelOutcome, type CancelPlan } from '../core/cancel-plan.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { ConciergeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PaypalClient } from '../paypal/client.ts';
import type { Store, Tx } from '../store/db.ts';
import { getSubscription } from '../store/subscription-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { applySubscription, type SubscriptionRead } from './apply-subscription.ts';
import { readSubscription, type PaypalReads } from './paypal-reads.ts';
import { recordAudit } from './audit.ts';
import { readMemberOverview } from './member-overview.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * A member cancels their own subscription from Discord (/cancel, then
 * Confirm). PayPal is asked first; the subscription is then re-read and
 * applied through the same path as a webhook (applySubscription), so the
 * CANCELLED webhook PayPal sends later finds nothing left to change. The role
 * stays until paid-through; the lapse check that recomputeMember schedules
 * removes it then.
 */

export interface CancelDeps {
  store: Store;
  paypal: Pick<PaypalClient, 'cancelSubscription'> & Pick<PaypalReads, 'getSubscription' | 'getPlan'>;
  tiers: TiersSource;
  clock: () => number;
  log: Logger;
  effects: MemberEffects;
}

/** PayPal keeps this as the cancellation note (at most 128 characters); staff see it in PayPal's dashboard. */
export const CANCEL_REASON = 'Cancelled by the member from Discord';

/** Who cancels: the member (/cancel) or staff (/admin revoke, which records its own audit entry of the action). */
export interface CancelBy {
  /** Sent to PayPal as the cancellation note (at most 128 characters). */
  paypalReason: string;
  /** Added to the audit entry of the transition ("by the member from Discord, /cancel"). */
  cause: string;
  /** True when the caller audits the cancellation itself, so a failed re-read needs no entry of its own here. */
  callerAudits: boolean;
}

export const MEMBER_CANCEL: CancelBy = { paypalReason: CANCEL_REASON, cause: 'by the member from Discord, /cancel', callerAudits: false };

/** What /cancel offers, from the store alone (no PayPal call: the first reply needs no defer). */
export function previewCancel(deps: { store: Store; effects: MemberEffects }, memberId: string, catalog: TierCatalog, now: number): CancelPlan {
  const o = readMemberOverview({ store: deps.store, vault: deps.effects.vault }, memberId);
  return planCancel(o.subscriptions, o.grants, catalog, now);
}

/** PayPal answers 422 SUBSCRIPTION_STATUS_INVALID to a cancel of a subscription that is no longer active or suspended. */
function isStatusRefusal(err: unknown): boolean {
  return err instanceof ConciergeError && err.context['status'] === 422;
}

/**
 * Cancels `subscriptionId` for `memberId` (the clicking member, whom the
 * router checked the button belongs to, or a staff member acting on them).
 * A PayPal failure throws with nothing changed, so it can simply be tried again.
 */
export async function cancelFromDiscord(deps: CancelDeps, memberId: string, subscriptionId: string, by: CancelBy = MEMBER_CANCEL): Promise<CancelOutcome> {
  const row = getSubscription(deps.store.db, subscriptionId);
  // The custom id names the subscription; it must still be this member's.
  if (row === undefined || row.memberId !== memberId) return { kind: 'not_found' };
  if (row.state === 'cancelled') return { kind: 'already_cancelled', after: accessFrom(row, deps.tiers.current(), deps.clock()) };
  if (!isCancellable(row.state)) return { kind: 'not_cancellable', paypalStatus: row.paypalStatus };

  let refusal: unknown = null;
  try {
    await deps.paypal.cancelSubscription(subscriptionId, by.paypalReason);
  } catch (err) {
    if (!isStatusRefusal(err)) throw err;
    // Cancelled (or ended) at PayPal already, e.g. from the buyer's PayPal account: the re-read below tells which.
    refusal = err;
  }
  const alreadyAtPaypal = refusal !== null;

  let read: SubscriptionRead;
  try {
    read = await readSubscription(deps.paypal, subscriptionId);
  } catch (err) {
    if (alreadyAtPaypal) throw err;
    // The cancel went through, only the re-read failed: PayPal's CANCELLED webhook brings the new state.
    deps.log.warn({ err, subscriptionId }, 'cancelled at PayPal but could not re-read the subscription; the webhook will apply it');
    if (!by.callerAudits) deps.store.transaction((tx) => recordMemberCancel(tx, memberId, subscriptionId, deps.clock()));
    return { kind: 'accepted' };
  }

  const catalog = deps.tiers.current();
  const now = deps.clock();
  const after = deps.store.transaction((tx) => {
    // One audit entry for the cancellation: the transition's, saying who did it.
    applySubscription(tx, read, { catalog, effects: deps.effects, now, eventId: null, ...(alreadyAtPaypal ? {} : { cause: by.cause }) });
    return getSubscription(tx, subscriptionId);
  });

  if (after?.state === 'cancelled') return { kind: alreadyAtPaypal ? 'already_cancelled' : 'cancelled', after: accessFrom(after, catalog, now) };
  if (alreadyAtPaypal) {
    // PayPal refused to cancel a subscription it still reports as cancellable: not something the member can fix.
    if (after !== undefined && isCancellable(after.state)) throw refusal;
    return { kind: 'not_cancellable', paypalStatus: read.view.status ?? 'unknown' };
  }
  // PayPal took the cancel but its read still shows the old status: the webhook will settle it.
  deps.log.warn({ subscriptionId, paypalStatus: read.view.status }, 'PayPal accepted the cancel but still reports the subscription as not cancelled');
  return { kind: 'accepted' };
}

/** Only when PayPal took the cancel but could not be re-read: the transition's own audit entry comes later, with the webhook. */
function recordMemberCancel(tx: Tx, memberId: string, subscriptionId: string, now: number): void {
  recordAudit(
    tx,
    {
      kind: 'subscription.member_cancelled',
      severity: 'info',
      memberId,
      subscriptionId,
      message: `<@${memberId}> cancelled subscription ${subscriptionId} from Discord (/cancel); PayPal could not be re-read yet, the state follows with its webhook`,
      data: { via: 'discord' },
    },
    now,
  );
}
