import { decideExpiryWarning, expiryScanWindow, type EndingAccess } from '../core/expiry-warning.ts';
import { dmJob, expiryWarningsJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import { insertAudit } from '../store/audit-repo.ts';
import type { Store, Tx } from '../store/db.ts';
import { listEntitlementsEndingBetween, type MemberRow } from '../store/member-repo.ts';
import { getSubscription } from '../store/subscription-repo.ts';
import { EXPIRY_SCAN_EVERY_MS, queueNextRun } from './schedules.ts';

/**
 * The expiry-warning scan, a scheduled job (app/schedules.ts): members whose
 * access ends within three days and will not renew get one DM each
 * (core/expiry-warning.ts decides). Reads the entitlement recomputeMember
 * stored on each member, so it agrees with role sync and /status.
 */

export interface ExpiryScanResult {
  /** DMs queued by this scan. */
  warned: number;
  /** Members in the window that were not warned (renewing source, or warned before). */
  skipped: number;
}

/**
 * Runs one scan covering warning times in (since, now], and queues the next
 * scan with `since = now`, in ONE transaction: a scan that fails leaves its
 * window to the retry, and one that commits never covers it twice. The
 * warning is recorded as an audit entry whose unique dedupe key is the
 * "once": a member is warned once per source and end time, whatever
 * overlaps, retries or restarts happen. (Recorded, not posted: the audit
 * channel is for changes, and /admin lookup shows it.)
 */
export function scanExpiryWarnings(deps: { store: Store }, since: number, now: number): ExpiryScanResult {
  return deps.store.transaction((tx) => {
    const window = expiryScanWindow(since, now);
    let warned = 0;
    let skipped = 0;
    for (const m of listEntitlementsEndingBetween(tx, window.after, window.upTo)) {
      if (warnMember(tx, toEndingAccess(tx, m), now)) warned++;
      else skipped++;
    }
    queueNextRun(tx, expiryWarningsJob, { since: now }, now + EXPIRY_SCAN_EVERY_MS, now);
    return { warned, skipped };
  });
}

function toEndingAccess(tx: Tx, m: MemberRow): EndingAccess {
  const source = m.entitledSource;
  const subscriptionId = source?.startsWith('subscription:') ? source.slice('subscription:'.length) : null;
  return {
    memberId: m.discordUserId,
    tierKey: m.entitledTier ?? '',
    until: m.entitledUntil ?? 0,
    source,
    subscriptionState: subscriptionId === null ? null : (getSubscription(tx, subscriptionId)?.state ?? null),
  };
}

/** Records the warning and queues its DM; false when it is not due or was recorded before. */
function warnMember(tx: Tx, a: EndingAccess, now: number): boolean {
  const decision = decideExpiryWarning(a);
  if (!decision.warn) return false;
  const auditId = insertAudit(tx, {
    at: now,
    kind: 'member.expiry_warning',
    severity: 'info',
    memberId: a.memberId,
    subscriptionId: a.source?.startsWith('subscription:') ? a.source.slice('subscription:'.length) : null,
    eventId: null,
    message: `Expiry warning sent to <@${a.memberId}>: ${a.tierKey} ends ${new Date(a.until).toISOString()} and will not renew (${a.source})`,
    data: JSON.stringify({ tier: a.tierKey, until: a.until, source: a.source }),
    dedupeKey: decision.dedupeKey,
  });
  if (auditId === null) return false;
  enqueue(tx, dmJob, { memberId: a.memberId, kind: 'expiry_warning', tierKey: a.tierKey, until: a.until }, now);
  return true;
}
