import type { LookupFacts } from '../core/member-lookup.ts';
import type { SummaryPayment } from '../core/member-summary.ts';
import { listMemberAudit } from '../store/audit-repo.ts';
import type { Store } from '../store/db.ts';
import { latestPayment } from '../store/payment-repo.ts';
import type { MemberEffects } from './member-effects.ts';
import { readMemberOverview } from './member-overview.ts';
import { recordStaffAction } from './staff-audit.ts';

/** How many of the member's audit entries the lookup shows. */
const AUDIT_ENTRIES = 5;

/**
 * `/admin lookup member`: the member's rows as /status reads them (one
 * snapshot, serials opened for masking), the latest sale of each
 * subscription and their last audit entries. Reading a member's payments and
 * serials is itself audited, as any staff action is; earlier lookups are left
 * out of the history shown, so they cannot push the member's own events out.
 */
export function lookupMember(deps: { store: Store; effects: MemberEffects }, r: { actorId: string; memberId: string }, now: number): LookupFacts {
  const overview = readMemberOverview({ store: deps.store, vault: deps.effects.vault }, r.memberId);
  const db = deps.store.db;
  const lastPayments = new Map<string, SummaryPayment>();
  for (const s of overview.subscriptions) {
    const p = latestPayment(db, [s.id]);
    if (p !== undefined) lastPayments.set(s.id, p);
  }
  const audit = listMemberAudit(db, r.memberId, AUDIT_ENTRIES, ['staff.lookup']);
  deps.store.transaction((tx) => recordStaffAction(tx, { action: 'lookup', actorId: r.actorId, targetId: r.memberId, summary: `looked up <@${r.memberId}>`, reason: null }, now));
  return { memberId: r.memberId, subscriptions: overview.subscriptions, lastPayments, grants: overview.grants, serials: overview.serials, audit };
}
