import { DAY_MS } from '../../core/time.ts';
import { isNotFound, type TransactionView } from '../paypal-reads.ts';
import type { ProcessDeps } from './handler.ts';

/** How far before the event's own date to look for its sale (PayPal redelivers for 3 days); never more than ~13 months back. */
const SEARCH_SLACK_MS = 4 * DAY_MS;
const SEARCH_MAX_MS = 400 * DAY_MS;

/**
 * The time range to search a subscription's transactions for a sale: from a
 * little before the earliest hint (the event's date, the sale as stored) to
 * now. A wrong hint only makes the sale not found, which changes nothing.
 */
function searchWindow(hints: readonly (number | null)[], now: number): { start: Date; end: Date } {
  const valid = hints.filter((t): t is number => t !== null && t <= now && t > now - SEARCH_MAX_MS);
  const from = valid.length > 0 ? Math.min(...valid) - SEARCH_SLACK_MS : now - SEARCH_MAX_MS;
  return { start: new Date(Math.max(from, now - SEARCH_MAX_MS)), end: new Date(now) };
}

/** A sale as PayPal lists it among its subscription's transactions; null when PayPal lists no such sale (or knows no such subscription). */
export async function findTransaction(deps: ProcessDeps, subscriptionId: string, saleId: string, hints: readonly (number | null)[]): Promise<TransactionView | null> {
  const w = searchWindow(hints, deps.clock());
  try {
    const list = await deps.paypal.listTransactions(subscriptionId, w.start, w.end);
    return list.find((t) => t.id === saleId) ?? null;
  } catch (err) {
    if (isNotFound(err)) return null; // PayPal knows no such subscription: nothing to confirm
    throw err;
  }
}
