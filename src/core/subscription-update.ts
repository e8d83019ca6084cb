import { NOTHING_PAID, settlePayments, type PaidFacts, type PaymentEvidence, type PlanPrice, type Settlement, type UpgradeTerms } from './paid-plan.ts';
import { NOTHING_KNOWN, type KnownFacts, type PaypalSubscriptionView, type SubscriptionState } from './subscription-state.ts';
import { later, parseIso } from './time.ts';
import type { TierCatalog } from './tiers.ts';

/**
 * How a subscription read from PayPal (fetch-on-notify) updates the stored
 * copy: who it links to, whether the read is older than the copy, what the
 * payments it brings paid for, and which tier keys and paid plan the row
 * carries. Pure; app/apply-subscription.ts loads the row, calls these and
 * writes the result in one transaction.
 */

/** The stored subscription as these decisions read it (a structural subset of the store's row). */
export interface StoredSubscription {
  memberId: string | null;
  customId: string | null;
  /** One of SUBSCRIPTION_STATES: only Concierge writes it. */
  state: string;
  planId: string;
  tierKey: string | null;
  paypalStatus: string;
  paypalUpdatedAt: number | null;
  nextBillingAt: number | null;
  lastPaymentAt: number | null;
  paidPlanId: string | null;
  paidTierKey: string | null;
  paidPrice: string | null;
  paidCurrency: string | null;
  intervalUnit: string | null;
  intervalCount: number | null;
  paidUntil: number | null;
  failedPaymentsCount: number;
  lastFailedPaymentAt: number | null;
  revokedAt: number | null;
  upgradeFee: string | null;
  upgradeCurrency: string | null;
  upgradeUntil: number | null;
  /** The subscription this one replaces (an instant upgrade). */
  upgradeFrom: string | null;
}

const DISCORD_ID = /^\d{17,20}$/;

/**
 * The member a subscription belongs to: the one already linked, else the one
 * its custom_id names (Concierge sets it to the buyer's Discord id at
 * checkout). A custom_id that is not a Discord id links nobody.
 */
export function linkMember(viewCustomId: string | undefined, stored: Pick<StoredSubscription, 'memberId' | 'customId'> | undefined): { customId: string | null; memberId: string | null } {
  const customId = viewCustomId ?? stored?.customId ?? null;
  const memberId = stored?.memberId ?? (customId !== null && DISCORD_ID.test(customId) ? customId : null);
  return { customId, memberId };
}

/** A read older than the stored copy (two jobs read PayPal concurrently): it must not step the status back. */
export function isStaleRead(view: PaypalSubscriptionView, stored: Pick<StoredSubscription, 'paypalUpdatedAt'> | undefined): boolean {
  const readAt = later(parseIso(view.updateTime), parseIso(view.statusUpdateTime));
  return stored?.paypalUpdatedAt != null && readAt !== null && readAt < stored.paypalUpdatedAt;
}

export function toKnownFacts(row: StoredSubscription | undefined): KnownFacts {
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

export function toPaidFacts(row: StoredSubscription | undefined): PaidFacts {
  if (row === undefined) return NOTHING_PAID;
  const plan =
    row.paidPlanId !== null && row.paidPrice !== null && row.paidCurrency !== null && row.intervalUnit !== null
      ? { planId: row.paidPlanId, value: row.paidPrice, currency: row.paidCurrency, intervalUnit: row.intervalUnit, intervalCount: row.intervalCount ?? 1 }
      : null;
  // A row counted before prices were stored (migration 0004) still names its paid plan; with no price it is no candidate for the next payment.
  return { plan, until: row.paidUntil, lastPaymentAt: row.lastPaymentAt };
}

export function toUpgradeTerms(row: StoredSubscription | undefined): UpgradeTerms | null {
  if (row?.upgradeFee == null || row.upgradeCurrency === null || row.upgradeUntil === null) return null;
  return { fee: row.upgradeFee, currency: row.upgradeCurrency, until: row.upgradeUntil };
}

/** billing_info.last_payment as payment evidence (PayPal's own read, so it is trusted like the status). */
export function readLastPayment(view: PaypalSubscriptionView, now: number): PaymentEvidence | null {
  const p = view.billingInfo?.lastPayment;
  const at = parseIso(p?.time);
  const value = p?.amount?.value;
  const currency = p?.amount?.currencyCode;
  if (at === null || value === undefined || currency === undefined) return null;
  return { value, currency, at: Math.min(at, now) };
}

/**
 * What the payments a read brings paid for: the one PayPal confirmed for
 * this notification (`confirmed`) and billing_info.last_payment, folded
 * into what the row already counted.
 */
export function settleReadPayments(i: {
  stored: StoredSubscription | undefined;
  view: PaypalSubscriptionView;
  /** PayPal's catalogue price of the plan the read shows. */
  planPrice: PlanPrice | null;
  /** Other plans' catalogue prices, read when a first payment was not exactly planPrice (or the plan changed since recorded). */
  fallbacks?: readonly PlanPrice[];
  confirmed: PaymentEvidence | null;
  stale: boolean;
  catalog: TierCatalog;
  now: number;
}): Settlement {
  // The confirmed payment first: when billing_info reports the same payment, the sort keeps it and drops the copy.
  const evidence = [i.confirmed, readLastPayment(i.view, i.now)].filter((p): p is PaymentEvidence => p !== null);
  return settlePayments({
    known: toPaidFacts(i.stored),
    payments: evidence,
    // A stale read's plan is not what PayPal bills now: the stored plan's price is not at hand, so only the paid plan is a candidate.
    current: i.stale ? null : i.planPrice,
    upgrade: toUpgradeTerms(i.stored),
    fallbacks: i.fallbacks,
    recordedPlanId: i.stored?.planId ?? null,
    rankOf: (planId) => i.catalog.byPlan(planId)?.rank ?? -Infinity,
  });
}

/**
 * A stale read adds only its payments: its status, plan and billing times
 * are replaced by the stored ones.
 */
export function keepStoredStatus(row: StoredSubscription, view: PaypalSubscriptionView): PaypalSubscriptionView {
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

export type PlanColumns = Pick<StoredSubscription, 'tierKey' | 'paidPlanId' | 'paidTierKey' | 'paidPrice' | 'paidCurrency' | 'intervalUnit' | 'intervalCount'>;

/**
 * The tier keys and paid plan the row stores after a read. A key carries
 * over while its plan does, so a plan since removed from the tiers file
 * keeps the tier it was bought as; a newly counted plan takes its key from
 * the tiers file as it is now.
 */
export function carryPlanColumns(planId: string, paidPlan: PlanPrice | null, stored: Pick<StoredSubscription, 'tierKey' | 'paidPlanId' | 'paidTierKey'> | undefined, catalog: TierCatalog): PlanColumns {
  const keyOf = (id: string) => catalog.byPlan(id)?.key;
  const carried = paidPlan === null || paidPlan.planId === stored?.paidPlanId;
  return {
    tierKey: keyOf(planId) ?? stored?.tierKey ?? null,
    paidPlanId: paidPlan?.planId ?? stored?.paidPlanId ?? null,
    paidTierKey: carried ? (keyOf(paidPlan?.planId ?? '') ?? stored?.paidTierKey ?? null) : (keyOf(paidPlan.planId) ?? null),
    paidPrice: paidPlan?.value ?? null,
    paidCurrency: paidPlan?.currency ?? null,
    intervalUnit: paidPlan?.intervalUnit ?? null,
    intervalCount: paidPlan?.intervalCount ?? null,
  };
}

/**
 * The subscription an instant upgrade replaces, once the upgrade's first
 * payment (its prorated fee) counted: it is to be cancelled at PayPal (its
 * own period is already paid for). Null when nothing is due.
 */
export function replacedToCancel(stored: Pick<StoredSubscription, 'upgradeFrom' | 'paidPlanId'> | undefined, paidPlan: PlanPrice | null): string | null {
  if (stored?.upgradeFrom == null || stored.paidPlanId !== null || paidPlan === null) return null;
  return stored.upgradeFrom;
}
