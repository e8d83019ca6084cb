import { DAY_MS } from './time.ts';

/**
 * The expiry warning (SPEC "Who uses it": members get a DM on upcoming
 * expiry): three days before access that will not renew ends — a cancelled
 * subscription's paid-through, a timed staff grant's end — the member is told
 * once. Pure: the scan (app/expiry-warnings.ts) brings the facts and the clock.
 */

export const EXPIRY_WARNING_LEAD_MS = 3 * DAY_MS;

/**
 * The end times a scan covers: those whose warning time (end − 3 days)
 * passed since the previous scan, and that have not passed themselves. An
 * access that became non-renewing less than three days before its end (a
 * cancel on the last days) is not warned: its cancellation DM named the date
 * already. A scan after downtime covers the whole gap. Ends in (after, upTo].
 */
export function expiryScanWindow(previousScanAt: number, now: number): { after: number; upTo: number } {
  return { after: Math.max(previousScanAt + EXPIRY_WARNING_LEAD_MS, now), upTo: now + EXPIRY_WARNING_LEAD_MS };
}

export interface EndingAccess {
  memberId: string;
  tierKey: string;
  /** When the member's current entitlement ends. */
  until: number;
  /** members.entitled_source: 'subscription:<id>' or 'grant:<id>'. */
  source: string | null;
  /** Concierge's state of that subscription, when the source is one (null otherwise or when unknown). */
  subscriptionState: string | null;
}

export type ExpiryDecision = { warn: true; dedupeKey: string } | { warn: false; why: string };

/**
 * Whether to warn about an access ending: only when it will not renew. A
 * subscription PayPal still bills (active, past due, suspended) renews or is
 * announced by its own DMs; a downgrade at paid-through is not an end.
 * The dedupe key makes it once per source and end time: a grant extended,
 * or a subscription resumed and cancelled again, ends at another time and
 * is warned again.
 */
export function decideExpiryWarning(a: EndingAccess): ExpiryDecision {
  if (a.source === null) return { warn: false, why: 'no source' };
  const nonRenewing = a.source.startsWith('grant:') || (a.source.startsWith('subscription:') && a.subscriptionState === 'cancelled');
  if (!nonRenewing) return { warn: false, why: `source ${a.source} renews (${a.subscriptionState ?? 'unknown state'})` };
  return { warn: true, dedupeKey: `expiry_warning:${a.source}:${a.until}` };
}
