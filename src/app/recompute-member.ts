import { describeSource, entitlement, type Entitlement } from '../core/entitlement.ts';
import { isEmptyPlan } from '../core/serial.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { dmJob, lapseCheckJob, roleSyncJob, type DmPayload } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Store, Tx } from '../store/db.ts';
import { listMemberGrants } from '../store/grant-repo.ts';
import { ensureMember, setMemberEntitlement } from '../store/member-repo.ts';
import { listMemberSubscriptions } from '../store/subscription-repo.ts';
import type { TiersSource } from '../tiers.ts';
import { recordAudit } from './audit.ts';
import type { MemberEffects } from './member-effects.ts';
import { enqueueMemberSync } from './sync-marketplace.ts';
import { syncSerials } from './sync-serials.ts';

export interface ChangeContext {
  /** Why we are looking again, for the audit trail ("PayPal reports ACTIVE", "lapse check"). */
  reason: string;
  eventId?: string | null;
  subscriptionId?: string | null;
}

/**
 * Recomputes a member's entitlement from the store. When the tier changes it
 * enqueues a role sync and an audit entry in the caller's transaction; in all
 * cases it brings the member's serials in line with the tier and schedules a
 * lapse check for the moment the answer may change next. A change of tier or
 * serials also queues the marketplace sync.
 */
export function recomputeMember(tx: Tx, effects: MemberEffects, memberId: string, catalog: TierCatalog, now: number, ctx: ChangeContext): Entitlement {
  const member = ensureMember(tx, memberId, now);
  const e = entitlement(listMemberSubscriptions(tx, memberId), listMemberGrants(tx, memberId), catalog, now);
  const next = { tier: e.tier?.key ?? null, until: e.until, source: describeSource(e.source) };
  const serialChanges = syncSerials(tx, effects.vault, memberId, e.tier, catalog, now);
  if (next.tier !== member.entitledTier || !isEmptyPlan(serialChanges)) enqueueMemberSync(tx, effects, memberId, now);

  if (next.tier !== member.entitledTier) {
    setMemberEntitlement(tx, memberId, next, now);
    enqueue(tx, roleSyncJob, { memberId }, now, { dedupeKey: memberId });
    const dm: DmPayload =
      next.tier !== null
        ? { memberId, kind: 'welcome', tierKey: next.tier, until: null }
        : { memberId, kind: 'access_ended', tierKey: member.entitledTier, until: null };
    enqueue(tx, dmJob, dm, now);
    const name = (key: string | null) => (key === null ? 'none' : (catalog.byKey(key)?.name ?? key));
    recordAudit(
      tx,
      {
        kind: 'entitlement.changed',
        severity: next.tier === null ? 'warning' : 'success',
        memberId,
        subscriptionId: ctx.subscriptionId ?? null,
        eventId: ctx.eventId ?? null,
        message: `<@${memberId}> tier ${name(member.entitledTier)} → ${name(next.tier)}: ${ctx.reason}`,
        data: { from: member.entitledTier, to: next.tier, source: next.source, until: next.until },
      },
      now,
    );
  } else if (next.until !== member.entitledUntil || next.source !== member.entitledSource) {
    setMemberEntitlement(tx, memberId, next, now);
  }
  if (e.reviewAt !== null) enqueue(tx, lapseCheckJob, { memberId }, now, { runAt: e.reviewAt, dedupeKey: memberId });
  return e;
}

/**
 * The lapse check: runs when a member's entitlement may end (paid-through,
 * grace or a grant's expiry passed) and recomputes it from the store; a
 * change enqueues role sync. Reads no API, so an outage can never end access early.
 */
export function recomputeAfterLapse(deps: { store: Store; tiers: TiersSource; effects: MemberEffects }, memberId: string, now: number): void {
  deps.store.transaction((tx) => {
    recomputeMember(tx, deps.effects, memberId, deps.tiers.current(), now, { reason: 'paid-through, grace or grant period ended' });
  });
}
