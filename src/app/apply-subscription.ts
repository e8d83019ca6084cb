import type { Attribution, PaymentEvidence, PlanPrice } from '../core/paid-plan.ts';
import { chooseTransitionDm, describeTransition, type Transition } from '../core/subscription-notices.ts';
import { deriveSubscription, type PaypalSubscriptionView, type SubscriptionState } from '../core/subscription-state.ts';
import { carryPlanColumns, isStaleRead, keepStoredStatus, linkMember, replacedToCancel, settleReadPayments, toKnownFacts } from '../core/subscription-update.ts';
import { later } from '../core/time.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { dmJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Tx } from '../store/db.ts';
import { ensureMember } from '../store/member-repo.ts';
import { getSubscription, upsertSubscription } from '../store/subscription-repo.ts';
import { recordAudit } from './audit.ts';
import { enqueueReplacedCancel } from './replace-subscription.ts';
import type { MemberEffects } from './member-effects.ts';
import { recomputeMember } from './recompute-member.ts';

/** A subscription as PayPal just reported it, with PayPal's catalogue price of the plan it shows (null when PayPal has no such plan). */
export interface SubscriptionRead {
  view: PaypalSubscriptionView & { id: string };
  planPrice: PlanPrice | null;
  /** Other plans' catalogue prices, when a payment fell short of planPrice (see readFallbackPrices). */
  fallbacks?: readonly PlanPrice[];
}

export interface ApplyContext {
  catalog: TierCatalog;
  effects: MemberEffects;
  now: number;
  eventId: string | null;
  /** A payment PayPal confirmed for this notification (its transaction), possibly not yet in billing_info. */
  payment?: PaymentEvidence | null;
  /**
   * A revocation decided in the same transaction (a refund PayPal confirmed for a subscription stored only
   * now): applied with the read, so access is never granted and announced only to be taken back.
   */
  revokedAt?: number;
  /** Who caused the change, when Concierge knows (e.g. "by the member from Discord"): added to the audit entry of the transition. */
  cause?: string;
}

export type ApplyResult =
  | { applied: false; why: 'stale'; memberId: string | null }
  | {
      applied: true;
      memberId: string | null;
      before: SubscriptionState | null;
      after: SubscriptionState;
      /** What `ctx.payment` paid for, when it counted (null: older than what is known, or it reached no price). */
      payment: Attribution | null;
    };

/**
 * Applies a subscription as PayPal just reported it (fetch-on-notify): the
 * shared path of webhooks, the return page and reconcile. Runs inside the
 * caller's transaction; never calls PayPal itself.
 */
export function applySubscription(tx: Tx, read: SubscriptionRead, ctx: ApplyContext): ApplyResult {
  const { view } = read;
  const existing = getSubscription(tx, view.id);
  const stale = isStaleRead(view, existing);
  const { customId, memberId } = linkMember(view.customId, existing);
  const settled = settleReadPayments({ stored: existing, view, planPrice: read.planPrice, fallbacks: read.fallbacks, confirmed: ctx.payment ?? null, stale, catalog: ctx.catalog, now: ctx.now });
  if (stale && existing !== undefined && settled.paid.lastPaymentAt === existing.lastPaymentAt) {
    return { applied: false, why: 'stale', memberId: existing.memberId };
  }
  if (memberId !== null) ensureMember(tx, memberId, ctx.now);

  const source = stale && existing !== undefined ? keepStoredStatus(existing, view) : view;
  // A revocation (refund, reversal, chargeback) stands until a payment completed after it counts for a plan:
  // one that reached its price. A later sale that paid for nothing never lifts it.
  const stored = existing?.revokedAt ?? null;
  const lifted = stored !== null && settled.counted.some((c) => c.payment.at > stored);
  const revokedAt = ctx.revokedAt ?? (lifted ? null : stored);
  const final = deriveSubscription(source, { ...toKnownFacts(existing), lastPaymentAt: settled.paid.lastPaymentAt, paidUntil: settled.paid.until, revokedAt }, ctx.catalog.policy, ctx.now);
  const planId = final.planId ?? existing?.planId ?? '';
  const row = {
    id: view.id,
    memberId,
    planId,
    ...carryPlanColumns(planId, settled.paid.plan, existing, ctx.catalog),
    state: final.state,
    paypalStatus: final.paypalStatus,
    paypalUpdatedAt: later(final.paypalUpdatedAt, existing?.paypalUpdatedAt ?? null),
    customId,
    nextBillingAt: final.nextBillingAt,
    lastPaymentAt: settled.paid.lastPaymentAt,
    paidUntil: settled.paid.until,
    paidThrough: final.paidThrough,
    graceUntil: final.graceUntil,
    accessUntil: final.accessUntil,
    failedPaymentsCount: final.failedPaymentsCount,
    lastFailedPaymentAt: final.lastFailedPaymentAt,
    revokedAt,
    revokedReason: revokedAt === null ? null : (existing?.revokedReason ?? null),
  };
  upsertSubscription(tx, row, ctx.now);

  for (const p of settled.uncounted) recordUncounted(tx, p, view.id, memberId, ctx);
  const replaced = replacedToCancel(existing, settled.paid.plan);
  // An instant upgrade's fee is paid: the subscription it replaces is cancelled at PayPal (its paid period is already paid for).
  if (replaced !== null) enqueueReplacedCancel(tx, replaced, view.id, ctx.now);

  const before = existing === undefined ? null : (existing.state as SubscriptionState);
  announceTransition(tx, { memberId, subscriptionId: view.id, before, after: final.state, accessUntil: row.accessUntil, graceUntil: row.graceUntil, cause: ctx.cause }, row, ctx);
  if (memberId === null && existing === undefined) recordUnlinked(tx, view.id, customId, ctx);
  if (memberId !== null) {
    recomputeMember(tx, ctx.effects, memberId, ctx.catalog, ctx.now, { reason: `PayPal reports ${final.paypalStatus} for ${view.id}`, eventId: ctx.eventId, subscriptionId: view.id });
  }
  const counted = ctx.payment == null ? undefined : settled.counted.find((c) => c.payment === ctx.payment);
  return { applied: true, memberId, before, after: final.state, payment: counted?.attribution ?? null };
}

/** The audit entry and member DM of a state change (core/subscription-notices.ts decides both). */
function announceTransition(tx: Tx, t: Transition, tier: { paidTierKey: string | null; tierKey: string | null }, ctx: ApplyContext): void {
  const note = describeTransition(t);
  if (note !== null) recordAudit(tx, { ...note, memberId: t.memberId, subscriptionId: t.subscriptionId, eventId: ctx.eventId }, ctx.now);
  const dm = chooseTransitionDm(t, tier);
  if (dm !== null) enqueue(tx, dmJob, dm, ctx.now);
}

function recordUncounted(tx: Tx, p: PaymentEvidence, subscriptionId: string, memberId: string | null, ctx: ApplyContext): void {
  recordAudit(
    tx,
    {
      kind: 'payment.uncounted',
      severity: 'warning',
      memberId,
      subscriptionId,
      eventId: ctx.eventId,
      message: `A payment of ${p.value} ${p.currency} on ${subscriptionId} reaches the price of no plan it could pay for; it extends no access (check the plan prices in PayPal)`,
      dedupeKey: `payment.uncounted:${subscriptionId}:${p.at}`,
    },
    ctx.now,
  );
}

function recordUnlinked(tx: Tx, subscriptionId: string, customId: string | null, ctx: ApplyContext): void {
  recordAudit(
    tx,
    {
      kind: 'subscription.unlinked',
      severity: 'danger',
      subscriptionId,
      eventId: ctx.eventId,
      message: `Subscription ${subscriptionId} names no Discord member (custom_id ${JSON.stringify(customId)}); link it by hand`,
    },
    ctx.now,
  );
}
