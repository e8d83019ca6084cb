import type { BillingPlan } from '@paypal/paypal-server-sdk';
import { ConciergeError } from '../errors.ts';

/** What a plan charges each regular cycle, as PayPal states it (amounts stay strings). */
export interface PlanPrice {
  planId: string;
  /** `"49.99"`. */
  value: string;
  currency: string;
  /** DAY, WEEK, MONTH or YEAR. */
  intervalUnit: string;
  intervalCount: number;
}

/**
 * The REGULAR cycle's fixed price. A plan may also have trial cycles; only
 * the regular one is what a member pays from then on.
 */
export function planPriceOf(planId: string, plan: BillingPlan): PlanPrice {
  const regular = plan.billingCycles?.find((c) => c.tenureType === 'REGULAR');
  const price = regular?.pricingScheme?.fixedPrice;
  if (!regular || !price) {
    const path = `/v1/billing/plans/${encodeURIComponent(planId)}`;
    throw new ConciergeError('paypal_invalid_response', `PayPal GET ${path} → 200 without a regular cycle's fixed price`, {
      retry: false,
      context: { method: 'GET', path },
    });
  }
  return { planId, value: price.value, currency: price.currencyCode, intervalUnit: regular.frequency.intervalUnit, intervalCount: regular.frequency.intervalCount ?? 1 };
}
