import { isNotFound, type TransactionView } from '../paypal-reads.ts';
import { findTransaction } from './find-transaction.ts';
import type { ProcessDeps } from './handler.ts';

export type LocatedSale =
  | { kind: 'found'; subscriptionId: string; sale: TransactionView }
  /** PayPal's sale pays no subscription: a payment of the merchant's outside Concierge. */
  | { kind: 'not-subscription' }
  /** PayPal does not bear the sale out (no such sale, or not in its subscription's list). */
  | { kind: 'unknown'; why: string };

/**
 * A sale Concierge has not recorded, placed by PayPal: its subscription from
 * the sale itself (billing_agreement_id), then the sale from that
 * subscription's transaction list, the source every other sale is confirmed
 * from. A dispute or a refund names only the sale; when the sale's own
 * COMPLETED event is late or lost, this is how the money taken back still
 * reaches the access it paid for. A failed call throws (the job retries).
 */
export async function locateSale(deps: ProcessDeps, saleId: string, hints: readonly (number | null)[]): Promise<LocatedSale> {
  let subscriptionId: string | null;
  try {
    subscriptionId = (await deps.paypal.getSale(saleId)).subscriptionId;
  } catch (err) {
    if (isNotFound(err)) return { kind: 'unknown', why: `PayPal knows no sale ${saleId}` };
    throw err;
  }
  if (subscriptionId === null) return { kind: 'not-subscription' };
  const sale = await findTransaction(deps, subscriptionId, saleId, hints);
  return sale === null ? { kind: 'unknown', why: `sale ${saleId} is not in the transactions of ${subscriptionId} at PayPal` } : { kind: 'found', subscriptionId, sale };
}
