import { addInterval, DAY_MS } from './time.ts';

/**
 * Access follows money (SPEC "Access follows money"): which plan a completed
 * payment paid for, and until when. Pure.
 *
 * PayPal shows a revised plan_id as soon as the buyer approves the revision,
 * but charges the new price only from the next billing cycle ("Proration and
 * one-time fees aren't automatically supported", PayPal's upgrade/downgrade
 * guide). So a plan_id is never proof of payment: a payment counts for a
 * plan only when its amount reaches that plan's price, and it covers one
 * interval of THAT plan from the moment it was made.
 */

/** A plan's regular price and interval, as PayPal's plan catalogue states them (not a subscription's override). */
export interface PlanPrice {
  planId: string;
  /** Decimal string as PayPal writes amounts, e.g. "49.99". */
  value: string;
  currency: string;
  intervalUnit: string;
  intervalCount: number;
}

/** A completed payment as PayPal reports it (a confirmed transaction, or billing_info.last_payment). */
export interface PaymentEvidence {
  value: string;
  currency: string;
  /** PayPal's time, already capped at now by the caller. */
  at: number;
}

/**
 * An instant upgrade (a new subscription whose first regular cycle starts
 * when the old one's paid period ends): the prorated difference PayPal
 * charges at sign-up as a setup fee pays for the higher plan until `until`.
 * Set only by Concierge when it creates such a subscription.
 */
export interface UpgradeTerms {
  fee: string;
  currency: string;
  until: number;
}

export interface Attribution {
  plan: PlanPrice;
  /** The end of the period this payment paid for. */
  coversUntil: number;
}

/** "4.99" → 499; null for anything that is not a non-negative decimal amount. */
export function toCents(value: string): number | null {
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(value.trim())) return null;
  return Math.round(Number(value) * 100);
}

export function fromCents(cents: number): string {
  return (cents / 100).toFixed(2);
}

function reaches(p: PaymentEvidence, value: string, currency: string): boolean {
  const paid = toCents(p.value);
  const price = toCents(value);
  return paid !== null && price !== null && p.currency === currency && paid >= price;
}

export interface AttributionInput {
  payment: PaymentEvidence;
  /** The plan PayPal shows now (its catalogue price), when known. */
  current: PlanPrice | null;
  /** The plan the previous counted payment paid for (stored with the subscription). */
  previous: PlanPrice | null;
  upgrade: UpgradeTerms | null;
  /** True while no payment of this subscription has counted yet. */
  firstPayment: boolean;
  /**
   * Other plans' catalogue prices, given only for a first payment that is not exactly the shown plan's price:
   * the plan may have been revised before Concierge saw the payment, and PayPal's read shows only the new plan.
   */
  fallbacks?: readonly PlanPrice[];
  /**
   * The plan Concierge recorded for this subscription before this read (the one its checkout created, or an
   * earlier read showed): PayPal billed it at some point, so a first payment reaching its price may count for
   * it even when the read now shows a lower plan (revised down before Concierge saw the payment).
   */
  recordedPlanId?: string | null;
  /** Rank of the tier a plan buys (-Infinity when no tier sells it): a payment meeting two prices buys the higher tier. */
  rankOf(planId: string): number;
}

/**
 * The plan a payment paid for, or null when it reaches no candidate's price
 * (it is recorded but extends nothing). Candidates are only the plan PayPal
 * shows now and the one paid for last: the amount must reach the price of
 * the plan it is counted for, so paying Elite's price never buys Warlord,
 * and a monthly payment never buys a year.
 */
export function attributePayment(i: AttributionInput): Attribution | null {
  const { payment, current, upgrade } = i;
  if (upgrade !== null && current !== null && i.firstPayment && payment.at < upgrade.until && reaches(payment, upgrade.fee, upgrade.currency)) {
    return { plan: current, coversUntil: upgrade.until };
  }
  const candidates = [current, i.previous].filter((p): p is PlanPrice => p !== null && reaches(payment, p.value, p.currency));
  // The higher tier first; between two plans of one tier (monthly and yearly), the dearer price reached: 199.99 paid buys the year.
  candidates.sort((a, b) => i.rankOf(b.planId) - i.rankOf(a.planId) || (toCents(b.value) ?? 0) - (toCents(a.value) ?? 0));
  const plan = (i.firstPayment ? billedPlan(i) : undefined) ?? candidates[0];
  if (plan === undefined) return null;
  return { plan, coversUntil: addInterval(payment.at, plan.intervalUnit, plan.intervalCount) };
}

/**
 * The plan a first payment was billed at, when the plan PayPal shows now may not be it (other plans' prices are
 * given): of the plans ranked no higher than the shown one (or the one Concierge recorded, if higher), the
 * dearest price the payment reaches; on a tie the shown plan, then the lower tier. So Elite's price buys Elite,
 * never Warlord; paying the same as Elite yearly never buys Warlord monthly; Titan's yearly price paid before a
 * revision to Warlord monthly buys Titan for the year, not Warlord for a month (the shown price is reached too,
 * but 199.99 was not a monthly payment); and Warlord's price paid on a subscription Concierge created at
 * Warlord buys Warlord, though it was revised down to Elite before Concierge saw the payment. The ceiling is
 * never lifted by an amount alone: another charge of the same sum (a setup fee, a balance billed at once) is
 * not proof of a plan the subscription was never seen on.
 */
function billedPlan(i: AttributionInput): PlanPrice | undefined {
  if (i.fallbacks === undefined || i.fallbacks.length === 0) return undefined;
  const shownRank = i.current === null ? -Infinity : i.rankOf(i.current.planId);
  const ceiling = i.recordedPlanId == null ? shownRank : Math.max(shownRank, i.rankOf(i.recordedPlanId));
  const shown = i.current?.planId;
  const plans = i.current === null ? i.fallbacks : [i.current, ...i.fallbacks.filter((p) => p.planId !== shown)];
  const fits = plans.filter((p) => i.rankOf(p.planId) <= ceiling && i.rankOf(p.planId) > -Infinity && reaches(i.payment, p.value, p.currency));
  fits.sort((a, b) => (toCents(b.value) ?? 0) - (toCents(a.value) ?? 0) || Number(b.planId === shown) - Number(a.planId === shown) || i.rankOf(a.planId) - i.rankOf(b.planId));
  return fits[0];
}

/** Rough length of one billing interval, for proration only (a month is 30 days). */
function intervalMs(unit: string, count: number): number | null {
  const days: Record<string, number> = { DAY: 1, WEEK: 7, SEMI_MONTH: 15, MONTH: 30, YEAR: 365 };
  const d = days[unit];
  return d === undefined || count <= 0 ? null : d * count * DAY_MS;
}

/**
 * The prorated difference for moving from `from` to `to` for the rest of the
 * paid period (`remainingMs`): the new plan's price per day minus the old
 * one's, times the days left, rounded up to the cent. Null when the plans
 * are in different currencies, an interval is unknown, or the new plan costs
 * no more per day (then there is nothing to charge now and the change waits
 * for the next billing cycle).
 */
export function prorateUpgrade(from: PlanPrice, to: PlanPrice, remainingMs: number): string | null {
  const a = toCents(from.value);
  const b = toCents(to.value);
  const la = intervalMs(from.intervalUnit, from.intervalCount);
  const lb = intervalMs(to.intervalUnit, to.intervalCount);
  if (a === null || b === null || la === null || lb === null || from.currency !== to.currency || remainingMs <= 0) return null;
  const cents = Math.ceil((b / lb - a / la) * remainingMs);
  return cents > 0 ? fromCents(cents) : null;
}

/** "49.99 USD / month", "199.99 USD / year", "9.99 USD every 2 months". */
export function describePrice(p: PlanPrice): string {
  const unit = p.intervalUnit === 'SEMI_MONTH' ? 'half-month' : p.intervalUnit.toLowerCase();
  return p.intervalCount === 1 ? `${p.value} ${p.currency} / ${unit}` : `${p.value} ${p.currency} every ${p.intervalCount} ${unit}s`;
}

/** What the store keeps about the payments of one subscription. */
export interface PaidFacts {
  /** The plan the latest counted payment paid for (null: nothing paid yet). */
  plan: PlanPrice | null;
  /** The end of the period that payment paid for. */
  until: number | null;
  /** The latest payment PayPal reported, counted or not (for display and the past-due logic). */
  lastPaymentAt: number | null;
}

export const NOTHING_PAID: PaidFacts = { plan: null, until: null, lastPaymentAt: null };

export interface SettleInput {
  known: PaidFacts;
  /** Payments PayPal reported (billing_info.last_payment, a confirmed transaction), any order. */
  payments: readonly PaymentEvidence[];
  current: PlanPrice | null;
  upgrade: UpgradeTerms | null;
  /** Other plans' prices, for a first payment below the shown plan's price (see attributePayment). */
  fallbacks?: readonly PlanPrice[];
  recordedPlanId?: string | null;
  rankOf(planId: string): number;
}

/**
 * Folds payments newer than the last one known into the paid facts. A
 * payment that reaches no price is reported in `uncounted` and extends
 * nothing. The paid period is the latest counted payment's own: a later,
 * cheaper payment never stretches an earlier, dearer plan over its period.
 */
export interface Settlement {
  paid: PaidFacts;
  /** Payments newer than the last known one that reached a price, with what they paid for. */
  counted: { payment: PaymentEvidence; attribution: Attribution }[];
  uncounted: PaymentEvidence[];
}

export function settlePayments(i: SettleInput): Settlement {
  let paid = i.known;
  const counted: Settlement['counted'] = [];
  const uncounted: PaymentEvidence[] = [];
  const newer = [...i.payments].filter((p) => paid.lastPaymentAt === null || p.at > paid.lastPaymentAt).sort((a, b) => a.at - b.at);
  let lastAt = paid.lastPaymentAt;
  for (const p of newer) {
    if (lastAt !== null && p.at <= lastAt) continue; // the same payment reported twice (billing_info and its transaction)
    lastAt = p.at;
    const a = attributePayment({ payment: p, current: i.current, previous: paid.plan, upgrade: i.upgrade, firstPayment: paid.plan === null, fallbacks: i.fallbacks, recordedPlanId: i.recordedPlanId, rankOf: i.rankOf });
    if (a === null) {
      uncounted.push(p);
      paid = { ...paid, lastPaymentAt: p.at };
    } else {
      counted.push({ payment: p, attribution: a });
      paid = { plan: a.plan, until: a.coversUntil, lastPaymentAt: p.at };
    }
  }
  return { paid, counted, uncounted };
}

/** PayPal wants a subscription's start_time in the future; an upgrade this close to the renewal simply waits for it. */
export const MIN_UPGRADE_PERIOD_MS = 60 * 60 * 1000;

export type UpgradePlan =
  /** A new subscription on the higher plan: the fee charged at once, regular billing from `startsAt` (the old paid-through). */
  | { kind: 'instant'; fee: string; currency: string; startsAt: number }
  /** No prorated charge is possible (or due): revise the plan; the higher tier counts from the first payment at its price. */
  | { kind: 'at-renewal' };

/**
 * How a member moves up a tier (SPEC: an instant upgrade only when the
 * prorated difference is charged at once). PayPal's revise charges the new
 * price only from the next cycle and supports no proration, so an instant
 * upgrade is a new subscription whose setup fee is the difference for the
 * rest of the period already paid, starting its regular cycle when that
 * period ends.
 */
export function planUpgrade(from: PlanPrice | null, to: PlanPrice, paidThrough: number | null, now: number): UpgradePlan {
  if (from === null || paidThrough === null || paidThrough - now < MIN_UPGRADE_PERIOD_MS) return { kind: 'at-renewal' };
  const fee = prorateUpgrade(from, to, paidThrough - now);
  return fee === null ? { kind: 'at-renewal' } : { kind: 'instant', fee, currency: to.currency, startsAt: paidThrough };
}
