import type { Tx } from '../store/db.ts';
import { recordAudit } from './audit.ts';

/**
 * The audit entry of a staff maintenance action (/admin resync, export,
 * reconcile): who did it, to whom (a member, or everyone), and why.
 */
export function recordStaffAction(tx: Tx, a: { staffId: string; action: 'resync' | 'export' | 'reconcile'; memberId: string | null; summary: string; reason: string }, now: number): void {
  recordAudit(
    tx,
    {
      kind: `staff.${a.action}`,
      severity: 'info',
      memberId: a.memberId,
      message: `<@${a.staffId}> ${a.summary} (reason: ${a.reason})`,
      data: { staffId: a.staffId, target: a.memberId ?? 'all members', reason: a.reason },
    },
    now,
  );
}
