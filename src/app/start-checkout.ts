import { createHash } from 'node:crypto';
import { decideCheckout, type CheckoutDecision, type CheckoutOutcome } from '../core/checkout.ts';
import type { PaypalClient } from '../paypal/client.ts';
import type { Store } from '../store/db.ts';
import { listMemberGrants } from '../store/grant-repo.ts';
import { ensureMember } from '../store/member-repo.ts';
import { getSubscription, listMemberSubscriptions, recordCheckout, type SubscriptionRow } from '../store/subscription-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { enqueueRefresh } from './refresh-subscription.ts';
import type { PaypalReads } from './paypal-reads.ts';
import { describePrice, planUpgrade, type PlanPrice } from '../core/paid-plan.ts';

/**
 * `/subscribe tier [plan]`: read what the store knows, decide (core/checkout),
 * then ask PayPal for a new subscription or a plan change, and store what
 * PayPal answered. PayPal is called outside any transaction, and nothing is
 * stored unless PayPal answered: a PayPal failure throws and leaves the store
 * as it was.
 */

export interface CheckoutDeps {
  store: Store;
  tiers: TiersSource;
  paypal: Pick<PaypalClient, 'createSubscription' | 'reviseSubscription'> & Pick<PaypalReads, 'getPlan'>;
  /** `PUBLIC_URL`: PayPal sends the buyer back to `/paypal/return` or `/paypal/cancel` under it. */
  publicUrl: string;
}

export interface CheckoutInput {
  memberId: string;
  tierKey: string;
  planName: string | null;
  now: number;
}

/**
 * PayPal answers a repeated `PayPal-Request-Id` with the subscription it made
 * the first time (for 72 h), so the id names the checkout attempt instead of
 * being random: who buys which plan (`planKey`), after the member's newest
 * subscription the store knew of (`after`, null for none). A retry after a
 * lost answer or a restart sends the same id, at any time, until PayPal's
 * answer or its CREATED webhook is stored; from then on /subscribe offers the
 * stored checkout again, and a later checkout has a new `after`. (A 15-minute
 * bucket of the clock used to be part of it: two clicks either side of a
 * boundary made two subscriptions.) The cost, needing a lost answer and no
 * webhook for hours: a retry then gets PayPal's first subscription back,
 * whose approve link may have expired (APPROVE_LINK_TTL_MS).
 */
export function checkoutRequestId(memberId: string, planKey: string, after: string | null): string {
  const digest = createHash('sha256').update(`${memberId}:${planKey}:${after ?? '-'}`).digest('hex').slice(0, 40);
  return `concierge-subscribe-${digest}`;
}

/** The member's newest stored subscription: what a new checkout attempt comes after. */
function newestId(rows: readonly SubscriptionRow[]): string | null {
  let newest: SubscriptionRow | null = null;
  for (const r of rows) if (newest === null || r.createdAt > newest.createdAt || (r.createdAt === newest.createdAt && r.id > newest.id)) newest = r;
  return newest?.id ?? null;
}

export async function startCheckout(deps: CheckoutDeps, input: CheckoutInput): Promise<CheckoutOutcome> {
  const catalog = deps.tiers.current();
  const db = deps.store.db;
  const subscriptions = listMemberSubscriptions(db, input.memberId);
  const decision = decideCheckout({
    catalog,
    memberId: input.memberId,
    tierKey: input.tierKey,
    planName: input.planName,
    subscriptions,
    grants: listMemberGrants(db, input.memberId),
    now: input.now,
  });
  const urls = { returnUrl: `${deps.publicUrl}/paypal/return`, cancelUrl: `${deps.publicUrl}/paypal/cancel` };

  switch (decision.kind) {
    case 'refused':
    case 'held-subscription':
      return decision;
    case 'reuse': {
      const pending = getSubscription(db, decision.subscriptionId);
      if (pending?.state === 'abandoned') {
        // Offered again: pending once more, so the return page and the webhooks treat it as a live checkout.
        deps.store.transaction((tx) => recordCheckout(tx, { id: pending.id, memberId: input.memberId, planId: pending.planId, tierKey: decision.tier.key, paypalStatus: pending.paypalStatus, approveUrl: decision.approveUrl }, input.now));
      }
      if (pending?.upgradeFrom != null && pending.upgradeFee !== null && pending.upgradeCurrency !== null && pending.upgradeUntil !== null) {
        const to = await deps.paypal.getPlan(decision.plan.id);
        const from = catalog.byPlan(getSubscription(db, pending.upgradeFrom)?.paidPlanId ?? '') ?? decision.tier;
        return { kind: 'upgrading', tier: decision.tier, plan: decision.plan, from, fee: pending.upgradeFee, currency: pending.upgradeCurrency, startsAt: pending.upgradeUntil, price: describePrice(to), approveUrl: decision.approveUrl, reused: true };
      }
      return { kind: 'checkout', tier: decision.tier, plan: decision.plan, approveUrl: decision.approveUrl, reused: true };
    }
    case 'create': {
      const created = await deps.paypal.createSubscription({
        planId: decision.plan.id,
        customId: input.memberId,
        ...urls,
        requestId: checkoutRequestId(input.memberId, decision.plan.id, newestId(subscriptions)),
      });
      deps.store.transaction((tx) => {
        ensureMember(tx, input.memberId, input.now);
        recordCheckout(
          tx,
          { id: created.id, memberId: input.memberId, planId: decision.plan.id, tierKey: decision.tier.key, paypalStatus: created.status, approveUrl: created.approveUrl },
          input.now,
        );
      });
      return { kind: 'checkout', tier: decision.tier, plan: decision.plan, approveUrl: created.approveUrl, reused: false };
    }
    case 'change': {
      if (decision.direction === 'upgrade') {
        const upgraded = await startInstantUpgrade(deps, input, decision, urls, newestId(subscriptions));
        if (upgraded !== null) return upgraded;
      }
      const revised = await deps.paypal.reviseSubscription(decision.subscriptionId, decision.plan.id, urls);
      if (revised.approveUrl === null) {
        // Nothing brings the buyer back through the return page: read the subscription again shortly.
        deps.store.transaction((tx) => enqueueRefresh(tx, decision.subscriptionId, input.now));
      }
      return {
        kind: 'changing',
        tier: decision.tier,
        plan: decision.plan,
        from: decision.from,
        direction: decision.direction,
        paidThrough: decision.paidThrough,
        approveUrl: revised.approveUrl,
      };
    }
  }
}

/** What the replaced subscription's last counted payment paid for: stored with it, or (counted before prices were stored) PayPal's catalogue. */
async function paidPlanOf(deps: CheckoutDeps, row: SubscriptionRow): Promise<PlanPrice | null> {
  if (row.paidPlanId === null) return null;
  if (row.paidPrice !== null && row.paidCurrency !== null && row.intervalUnit !== null) {
    return { planId: row.paidPlanId, value: row.paidPrice, currency: row.paidCurrency, intervalUnit: row.intervalUnit, intervalCount: row.intervalCount ?? 1 };
  }
  return deps.paypal.getPlan(row.paidPlanId);
}

/**
 * An upgrade paid now (SPEC "Access follows money"): a new subscription on
 * the higher plan whose setup fee is the prorated difference for the rest of
 * the period already paid and whose regular billing starts when that period
 * ends; setup_fee_failure_action CANCEL keeps it from activating unpaid. The
 * old subscription is cancelled once the fee is paid (applySubscription).
 * Null when no prorated charge is possible: the caller revises instead.
 */
async function startInstantUpgrade(
  deps: CheckoutDeps,
  input: CheckoutInput,
  decision: Extract<CheckoutDecision, { kind: 'change' }>,
  urls: { returnUrl: string; cancelUrl: string },
  after: string | null,
): Promise<CheckoutOutcome | null> {
  const old = getSubscription(deps.store.db, decision.subscriptionId);
  if (old === undefined || old.state !== 'active') return null;
  const [from, to] = await Promise.all([paidPlanOf(deps, old), deps.paypal.getPlan(decision.plan.id)]);
  const plan = planUpgrade(from, to, old.paidThrough, input.now);
  if (plan.kind !== 'instant') return null;
  const created = await deps.paypal.createSubscription({
    planId: decision.plan.id,
    customId: input.memberId,
    ...urls,
    requestId: checkoutRequestId(input.memberId, `${decision.plan.id}:upgrade:${old.id}`, after),
    startTime: new Date(plan.startsAt),
    setupFee: { value: plan.fee, currency: plan.currency },
  });
  deps.store.transaction((tx) => {
    ensureMember(tx, input.memberId, input.now);
    recordCheckout(
      tx,
      {
        id: created.id,
        memberId: input.memberId,
        planId: decision.plan.id,
        tierKey: decision.tier.key,
        paypalStatus: created.status,
        approveUrl: created.approveUrl,
        upgrade: { from: old.id, fee: plan.fee, currency: plan.currency, until: plan.startsAt },
      },
      input.now,
    );
  });
  return { kind: 'upgrading', tier: decision.tier, plan: decision.plan, from: decision.from, fee: plan.fee, currency: plan.currency, startsAt: plan.startsAt, price: describePrice(to), approveUrl: created.approveUrl, reused: false };
}
