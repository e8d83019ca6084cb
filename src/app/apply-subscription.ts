import { accessOf, deriveSubscription, NOTHING_KNOWN, type KnownFacts, type PaypalSubscriptionView, type SubscriptionState } from '../core/subscription-state.ts';
import { later } from '../core/time.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { enqueue } from '../jobs/queue.ts';
import type { DmPayload } from '../jobs/handlers/dm.ts';
import type { Tx } from '../store/db.ts';
import { ensureMember } from '../store/member-repo.ts';
import { getSubscription, upsertSubscription, type SubscriptionRow } from '../store/subscription-repo.ts';
import { recordAudit, type AuditSeverity } from './audit.ts';
import { recomputeMember } from './recompute-member.ts';

const DISCORD_ID = /^\d{17,20}$/;

export interface ApplyContext {
  catalog: TierCatalog;
  now: number;
  eventId: string | null;
  /** A completed payment this notification brought, not yet in PayPal's billing_info. */
  paymentAt?: number | null;
  /** Who caused the change, when Concierge knows (e.g. "by the member from Discord"): added to the audit entry of the transition. */
  cause?: string;
}

export type ApplyResult =
  | { applied: false; why: 'stale'; memberId: string | null }
  | { applied: true; memberId: string | null; before: SubscriptionState | null; after: SubscriptionState };

function knownFrom(row: SubscriptionRow | undefined): KnownFacts {
  if (row === undefined) return NOTHING_KNOWN;
  return {
    state: row.state as SubscriptionState,
    planId: row.planId,
    nextBillingAt: row.nextBillingAt,
    lastPaymentAt: row.lastPaymentAt,
    intervalUnit: row.intervalUnit,
    intervalCount: row.intervalCount,
    lastFailedPaymentAt: row.lastFailedPaymentAt,
    revokedAt: row.revokedAt,
  };
}

/**
 * A plan change (PayPal's revise, approved by the buyer) to a lower tier keeps
 * the tier already paid for until the end of the paid period; a change to a
 * higher tier takes effect at once and ends any carried tier.
 */
function carryAfterPlanChange(existing: SubscriptionRow | undefined, planId: string, catalog: TierCatalog, now: number): { key: string | null; until: number | null } {
  const kept = existing?.carryUntil != null && existing.carryUntil > now ? { key: existing.carryTierKey, until: existing.carryUntil } : { key: null, until: null };
  if (existing === undefined || existing.planId === planId || planId === '') return kept;
  const from = catalog.byPlan(existing.planId) ?? (existing.tierKey === null ? undefined : catalog.byKey(existing.tierKey));
  const to = catalog.byPlan(planId);
  if (from === undefined || to === undefined || to.rank >= from.rank) return { key: null, until: null };
  const carriedRank = kept.key === null ? -Infinity : (catalog.byKey(kept.key)?.rank ?? -Infinity);
  if (carriedRank > from.rank) return kept; // a second downgrade inside the same paid period keeps the highest tier paid for
  const paidThrough = existing.paidThrough;
  return paidThrough !== null && paidThrough > now && accessOf(existing, now).has ? { key: from.key, until: paidThrough } : { key: null, until: null };
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
export function applySubscription(tx: Tx, view: PaypalSubscriptionView & { id: string }, ctx: ApplyContext): ApplyResult {
  const existing = getSubscription(tx, view.id);
  const derived = deriveSubscription(view, knownFrom(existing), ctx.catalog.policy, ctx.now);
  // Two jobs may read PayPal concurrently; an older read must not overwrite a newer one.
  if (existing?.paypalUpdatedAt != null && derived.paypalUpdatedAt !== null && derived.paypalUpdatedAt < existing.paypalUpdatedAt && ctx.paymentAt == null) {
    return { applied: false, why: 'stale', memberId: existing.memberId };
  }
  const customId = derived.customId ?? existing?.customId ?? null;
  const memberId = existing?.memberId ?? (customId !== null && DISCORD_ID.test(customId) ? customId : null);
  if (memberId !== null) ensureMember(tx, memberId, ctx.now);

  const lastPaymentAt = later(derived.lastPaymentAt, ctx.paymentAt ?? null);
  const final =
    lastPaymentAt === derived.lastPaymentAt
      ? derived
      : deriveSubscription(view, { ...knownFrom(existing), lastPaymentAt }, ctx.catalog.policy, ctx.now);
  const planId = final.planId ?? existing?.planId ?? '';
  const carry = carryAfterPlanChange(existing, planId, ctx.catalog, ctx.now);
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
    lastPaymentAt: final.lastPaymentAt,
    intervalUnit: final.intervalUnit,
    intervalCount: final.intervalCount,
    paidThrough: final.paidThrough,
    graceUntil: final.graceUntil,
    accessUntil: final.accessUntil,
    failedPaymentsCount: final.failedPaymentsCount,
    lastFailedPaymentAt: final.lastFailedPaymentAt,
    revokedAt: existing?.revokedAt ?? null,
    revokedReason: existing?.revokedReason ?? null,
    carryTierKey: carry.key,
    carryUntil: carry.until,
  };
  upsertSubscription(tx, row, ctx.now);

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
      tierKey: row.tierKey,
      until: final.state === 'past_due' ? row.graceUntil : row.accessUntil,
    };
    enqueue(tx, 'dm', dm, ctx.now);
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
  return { applied: true, memberId, before, after: final.state };
}
