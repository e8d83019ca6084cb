import { NOTHING_PAID, settlePayments, type Attribution, type PaidFacts, type PaymentEvidence, type PlanPrice, type UpgradeTerms } from '../core/paid-plan.ts';
import { deriveSubscription, NOTHING_KNOWN, type KnownFacts, type PaypalSubscriptionView, type SubscriptionState } from '../core/subscription-state.ts';
import { later, parseIso } from '../core/time.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { dmJob, type DmPayload } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Tx } from '../store/db.ts';
import { ensureMember } from '../store/member-repo.ts';
import { getSubscription, upsertSubscription, type SubscriptionRow } from '../store/subscription-repo.ts';
import { recordAudit, type AuditSeverity } from './audit.ts';
import { enqueueReplacedCancel } from './replace-subscription.ts';
import { recomputeMember } from './recompute-member.ts';

const DISCORD_ID = /^\d{17,20}$/;

/** A subscription as PayPal just reported it, with PayPal's catalogue price of the plan it shows (null when PayPal has no such plan). */
export interface SubscriptionRead {
  view: PaypalSubscriptionView & { id: string };
  planPrice: PlanPrice | null;
}

export interface ApplyContext {
  catalog: TierCatalog;
  now: number;
  eventId: string | null;
  /** A payment PayPal confirmed for this notification (its transaction), possibly not yet in billing_info. */
  payment?: PaymentEvidence | null;
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

function knownFrom(row: SubscriptionRow | undefined): KnownFacts {
  if (row === undefined) return NOTHING_KNOWN;
  return {
    state: row.state as SubscriptionState,
    planId: row.planId,
    nextBillingAt: row.nextBillingAt,
    lastPaymentAt: row.lastPaymentAt,
    paidUntil: row.paidUntil,
    lastFailedPaymentAt: row.lastFailedPaymentAt,
    revokedAt: row.revokedAt,
  };
}

function paidFrom(row: SubscriptionRow | undefined): PaidFacts {
  if (row === undefined) return NOTHING_PAID;
  const plan =
    row.paidPlanId !== null && row.paidPrice !== null && row.paidCurrency !== null && row.intervalUnit !== null
      ? { planId: row.paidPlanId, value: row.paidPrice, currency: row.paidCurrency, intervalUnit: row.intervalUnit, intervalCount: row.intervalCount ?? 1 }
      : null;
  // A row counted before prices were stored (migration 0004) still names its paid plan; with no price it is no candidate for the next payment.
  return { plan, until: row.paidUntil, lastPaymentAt: row.lastPaymentAt };
}

function upgradeFrom(row: SubscriptionRow | undefined): UpgradeTerms | null {
  if (row?.upgradeFee == null || row.upgradeCurrency === null || row.upgradeUntil === null) return null;
  return { fee: row.upgradeFee, currency: row.upgradeCurrency, until: row.upgradeUntil };
}

/** billing_info.last_payment as payment evidence (PayPal's own read, so it is trusted like the status). */
function lastPaymentOf(view: PaypalSubscriptionView, now: number): PaymentEvidence | null {
  const p = view.billingInfo?.lastPayment;
  const at = parseIso(p?.time);
  const value = p?.amount?.value;
  const currency = p?.amount?.currencyCode;
  if (at === null || value === undefined || currency === undefined) return null;
  return { value, currency, at: Math.min(at, now) };
}

/**
 * A read older than the stored copy (two jobs read PayPal concurrently) must
 * not step the status back: it is replaced by the stored status, and only
 * the payments it brings can add anything.
 */
function storedView(row: SubscriptionRow, view: PaypalSubscriptionView): PaypalSubscriptionView {
  const iso = (t: number | null) => (t === null ? undefined : new Date(t).toISOString());
  return {
    ...view,
    status: row.paypalStatus,
    planId: row.planId,
    statusUpdateTime: iso(row.paypalUpdatedAt),
    updateTime: iso(row.paypalUpdatedAt),
    billingInfo: {
      failedPaymentsCount: row.failedPaymentsCount,
      ...(row.nextBillingAt === null ? {} : { nextBillingTime: iso(row.nextBillingAt) }),
      ...(row.lastFailedPaymentAt === null ? {} : { lastFailedPayment: { time: new Date(row.lastFailedPaymentAt).toISOString() } }),
      ...(view.billingInfo?.lastPayment === undefined ? {} : { lastPayment: view.billingInfo.lastPayment }),
    },
  };
}

const fmt = (t: number | null) => (t === null ? 'unknown' : new Date(t).toISOString());

/** What the audit channel says when a subscription enters a state. */
function describeTransition(state: SubscriptionState, who: string, id: string, row: { accessUntil: number | null; graceUntil: number | null }): { severity: AuditSeverity; message: string } | null {
  switch (state) {
    case 'active':
      // Activation is announced once, by the tier change it causes (one embed per role change).
      return null;
    case 'past_due':
      return { severity: 'warning', message: `${who} payment failed on ${id}; access kept until ${fmt(row.graceUntil)}` };
    case 'suspended':
      return { severity: 'warning', message: `${who} subscription ${id} suspended by PayPal; access until ${fmt(row.accessUntil)}` };
    case 'cancelled':
      return { severity: 'warning', message: `${who} subscription ${id} cancelled; access until ${fmt(row.accessUntil)}` };
    case 'expired':
      return { severity: 'warning', message: `${who} subscription ${id} expired; access until ${fmt(row.accessUntil)}` };
    default:
      return null;
  }
}

/**
 * Applies a subscription as PayPal just reported it (fetch-on-notify): the
 * shared path of webhooks, the return page and reconcile. Runs inside the
 * caller's transaction; never calls PayPal itself.
 */
export function applySubscription(tx: Tx, read: SubscriptionRead, ctx: ApplyContext): ApplyResult {
  const { view } = read;
  const existing = getSubscription(tx, view.id);
  const readAt = later(parseIso(view.updateTime), parseIso(view.statusUpdateTime));
  const stale = existing?.paypalUpdatedAt != null && readAt !== null && readAt < existing.paypalUpdatedAt;
  const customId = view.customId ?? existing?.customId ?? null;
  const memberId = existing?.memberId ?? (customId !== null && DISCORD_ID.test(customId) ? customId : null);

  // The confirmed payment first: when billing_info reports the same payment, the sort keeps it and drops the copy.
  const evidence = [ctx.payment ?? null, lastPaymentOf(view, ctx.now)].filter((p): p is PaymentEvidence => p !== null);
  const settled = settlePayments({
    known: paidFrom(existing),
    payments: evidence,
    // A stale read's plan is not what PayPal bills now: the stored plan's price is not at hand, so only the paid plan is a candidate.
    current: stale ? null : read.planPrice,
    upgrade: upgradeFrom(existing),
    rankOf: (planId) => ctx.catalog.byPlan(planId)?.rank ?? -Infinity,
  });
  if (stale && existing !== undefined && settled.paid.lastPaymentAt === existing.lastPaymentAt) {
    return { applied: false, why: 'stale', memberId: existing.memberId };
  }
  if (memberId !== null) ensureMember(tx, memberId, ctx.now);

  const source = stale && existing !== undefined ? storedView(existing, view) : view;
  const final = deriveSubscription(source, { ...knownFrom(existing), lastPaymentAt: settled.paid.lastPaymentAt, paidUntil: settled.paid.until }, ctx.catalog.policy, ctx.now);
  const planId = final.planId ?? existing?.planId ?? '';
  const paidPlan = settled.paid.plan;
  const row = {
    id: view.id,
    memberId,
    planId,
    tierKey: ctx.catalog.byPlan(planId)?.key ?? existing?.tierKey ?? null,
    state: final.state,
    paypalStatus: final.paypalStatus,
    paypalUpdatedAt: later(final.paypalUpdatedAt, existing?.paypalUpdatedAt ?? null),
    customId,
    nextBillingAt: final.nextBillingAt,
    lastPaymentAt: settled.paid.lastPaymentAt,
    paidPlanId: paidPlan?.planId ?? existing?.paidPlanId ?? null,
    // The key stored when the plan was counted stays while the plan does: it covers a plan since removed from the tiers file.
    paidTierKey: paidPlan === null || paidPlan.planId === existing?.paidPlanId ? (ctx.catalog.byPlan(paidPlan?.planId ?? '')?.key ?? existing?.paidTierKey ?? null) : (ctx.catalog.byPlan(paidPlan.planId)?.key ?? null),
    paidPrice: paidPlan?.value ?? null,
    paidCurrency: paidPlan?.currency ?? null,
    intervalUnit: paidPlan?.intervalUnit ?? null,
    intervalCount: paidPlan?.intervalCount ?? null,
    paidUntil: settled.paid.until,
    paidThrough: final.paidThrough,
    graceUntil: final.graceUntil,
    accessUntil: final.accessUntil,
    failedPaymentsCount: final.failedPaymentsCount,
    lastFailedPaymentAt: final.lastFailedPaymentAt,
    revokedAt: existing?.revokedAt ?? null,
    revokedReason: existing?.revokedReason ?? null,
  };
  upsertSubscription(tx, row, ctx.now);

  for (const p of settled.uncounted) {
    recordAudit(
      tx,
      {
        kind: 'payment.uncounted',
        severity: 'warning',
        memberId,
        subscriptionId: view.id,
        eventId: ctx.eventId,
        message: `A payment of ${p.value} ${p.currency} on ${view.id} reaches the price of no plan it could pay for; it extends no access (check the plan prices in PayPal)`,
        dedupeKey: `payment.uncounted:${view.id}:${p.at}`,
      },
      ctx.now,
    );
  }
  // An instant upgrade's fee is paid: the subscription it replaces is cancelled at PayPal (its paid period is already paid for).
  if (existing?.upgradeFrom != null && existing.paidPlanId === null && paidPlan !== null) enqueueReplacedCancel(tx, existing.upgradeFrom, view.id, ctx.now);

  const before = existing === undefined ? null : (existing.state as SubscriptionState);
  if (before !== final.state) {
    const note = describeTransition(final.state, memberId === null ? 'An unlinked member’s' : `<@${memberId}>`, view.id, row);
    if (note !== null) {
      const message = ctx.cause === undefined ? note.message : `${note.message} (${ctx.cause})`;
      recordAudit(tx, { kind: `subscription.${final.state}`, severity: note.severity, message, memberId, subscriptionId: view.id, eventId: ctx.eventId }, ctx.now);
    }
  }
  if (memberId !== null && before !== final.state && (final.state === 'past_due' || final.state === 'cancelled')) {
    const dm: DmPayload = {
      memberId,
      kind: final.state === 'past_due' ? 'payment_failed' : 'cancelled',
      tierKey: row.paidTierKey ?? row.tierKey,
      until: final.state === 'past_due' ? row.graceUntil : row.accessUntil,
    };
    enqueue(tx, dmJob, dm, ctx.now);
  }
  if (memberId === null && existing === undefined) {
    recordAudit(
      tx,
      {
        kind: 'subscription.unlinked',
        severity: 'danger',
        subscriptionId: view.id,
        eventId: ctx.eventId,
        message: `Subscription ${view.id} names no Discord member (custom_id ${JSON.stringify(customId)}); link it by hand`,
      },
      ctx.now,
    );
  }
  if (memberId !== null) {
    recomputeMember(tx, memberId, ctx.catalog, ctx.now, { reason: `PayPal reports ${final.paypalStatus} for ${view.id}`, eventId: ctx.eventId, subscriptionId: view.id });
  }
  const counted = ctx.payment == null ? undefined : settled.counted.find((c) => c.payment === ctx.payment);
  return { applied: true, memberId, before, after: final.state, payment: counted?.attribution ?? null };
}
