import { describeStaffAction, type StaffAction } from '../core/staff.ts';
import type { Tx } from '../store/db.ts';
import { recordAudit } from './audit.ts';

/**
 * The one audit entry of a staff action, in the action's own transaction
 * (so it is posted to the audit channel by the audit job, and exists exactly
 * when the change does). The member acted on is the entry's member, so it
 * shows in their lookup history; the actor and reason are in the message and
 * in `data` for search.
 */
export function recordStaffAction(tx: Tx, a: StaffAction & { subscriptionId?: string | null; data?: Record<string, unknown> }, now: number): number {
  const { kind, severity, message } = describeStaffAction(a);
  const id = recordAudit(
    tx,
    {
      kind,
      severity,
      message,
      memberId: a.targetId,
      subscriptionId: a.subscriptionId ?? null,
      data: { actorId: a.actorId, targetId: a.targetId, reason: a.reason, ...a.data },
    },
    now,
  );
  // No dedupe key, so an insert always yields an id.
  if (id === null) throw new Error(`staff audit entry ${kind} was not recorded`);
  return id;
}
