import type { BillingPlan } from '@paypal/paypal-server-sdk';
import type { PlanPrice } from '../core/paid-plan.ts';
import { ConciergeError } from '../errors.ts';

export type { PlanPrice };

/**
 * The REGULAR cycle's fixed price. A plan may also have trial cycles; only
 * the regular one is what a member pays from then on.
 */
export function parsePlanPrice(planId: string, plan: BillingPlan): PlanPrice {
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
