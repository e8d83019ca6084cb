/**
 * Which PayPal webhook event types Concierge needs its webhook to be
 * subscribed to (SPEC "Subscription lifecycle"), for `concierge doctor`.
 * Pure.
 */

/** Every type the lifecycle table acts on. PayPal sends nothing it was not asked for. */
export const REQUIRED_EVENT_TYPES = [
  'BILLING.SUBSCRIPTION.CREATED',
  'BILLING.SUBSCRIPTION.ACTIVATED',
  'BILLING.SUBSCRIPTION.RE-ACTIVATED',
  'BILLING.SUBSCRIPTION.UPDATED',
  'BILLING.SUBSCRIPTION.PAYMENT.FAILED',
  'BILLING.SUBSCRIPTION.SUSPENDED',
  'BILLING.SUBSCRIPTION.CANCELLED',
  'BILLING.SUBSCRIPTION.EXPIRED',
  'PAYMENT.SALE.COMPLETED',
  'PAYMENT.SALE.REFUNDED',
  'PAYMENT.SALE.REVERSED',
  'CUSTOMER.DISPUTE.CREATED',
  'CUSTOMER.DISPUTE.UPDATED',
] as const;

/** The required types a webhook subscribed to `subscribed` misses; PayPal's `*` stands for every type. */
export function findMissingEventTypes(subscribed: readonly string[]): string[] {
  if (subscribed.includes('*')) return [];
  const have = new Set(subscribed);
  return REQUIRED_EVENT_TYPES.filter((t) => !have.has(t));
}

/** Where PayPal must deliver: PUBLIC_URL's webhook route. */
export function expectedWebhookUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/paypal`;
}
