import { toCents, type PaymentEvidence, type PlanPrice } from '../../core/paid-plan.ts';
import { readLastPayment } from '../../core/subscription-update.ts';
import type { TierCatalog } from '../../core/tiers.ts';
import { getSubscription } from '../../store/subscription-repo.ts';
import type { SubscriptionRead } from '../apply-subscription.ts';
import { isNotFound } from '../paypal-reads.ts';
import type { ProcessDeps } from './handler.ts';

/**
 * A subscription revised before Concierge saw its first payment reads as the new plan, whose price is not the
 * one that payment was billed at: short of it (revised up), or well over it (a yearly plan revised to a monthly
 * one of a higher tier). Then the other plans' catalogue prices are read from PayPal, so the payment counts for
 * the plan it was billed at (core/paid-plan.ts decides which, never above the shown tier or the plan Concierge
 * recorded before). Only then: a subscription with a counted payment, or a payment of exactly the shown price,
 * costs no reads.
 */
export async function withFallbackPrices(deps: ProcessDeps, read: SubscriptionRead, catalog: TierCatalog, confirmed: PaymentEvidence | null): Promise<SubscriptionRead> {
  const price = read.planPrice;
  const stored = getSubscription(deps.store.db, read.view.id);
  if (price === null || (stored?.paidPlanId ?? null) !== null) return read;
  const payments = [confirmed, readLastPayment(read.view, deps.clock())].filter((p): p is PaymentEvidence => p !== null);
  if (!payments.some((p) => differs(p, price))) return read;
  const others = catalog.tiers.flatMap((t) => t.plans).filter((id) => id !== price.planId);
  const prices = await Promise.all(others.map((id) => readPlanPrice(deps, id)));
  return { ...read, fallbacks: prices.filter((p): p is PlanPrice => p !== null) };
}

function differs(p: PaymentEvidence, price: PlanPrice): boolean {
  const paid = toCents(p.value);
  const due = toCents(price.value);
  return paid !== null && due !== null && (p.currency !== price.currency || paid !== due);
}

async function readPlanPrice(deps: ProcessDeps, planId: string): Promise<PlanPrice | null> {
  try {
    return await deps.paypal.getPlan(planId);
  } catch (err) {
    if (isNotFound(err)) return null; // a plan PayPal does not know sells nothing
    throw err;
  }
}
