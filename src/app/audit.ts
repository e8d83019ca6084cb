import { auditJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import { insertAudit } from '../store/audit-repo.ts';
import type { Tx } from '../store/db.ts';

export type AuditSeverity = 'info' | 'success' | 'warning' | 'danger';

export interface AuditInput {
  kind: string;
  severity: AuditSeverity;
  message: string;
  memberId?: string | null;
  subscriptionId?: string | null;
  eventId?: string | null;
  data?: Record<string, unknown>;
  /** Set when the same fact could be recorded twice (e.g. by a retried job). */
  dedupeKey?: string;
}

/**
 * Records an audit entry and, in the same transaction, enqueues the job that
 * posts it to the audit channel: the entry and its post commit together, so
 * an audit message is never lost and never doubled. Returns the entry's id
 * (null when its dedupeKey was recorded already).
 */
export function recordAudit(tx: Tx, a: AuditInput, now: number): number | null {
  const id = insertAudit(tx, {
    at: now,
    kind: a.kind,
    severity: a.severity,
    message: a.message,
    memberId: a.memberId ?? null,
    subscriptionId: a.subscriptionId ?? null,
    eventId: a.eventId ?? null,
    data: a.data === undefined ? null : JSON.stringify(a.data),
    dedupeKey: a.dedupeKey ?? null,
  });
  if (id !== null) enqueue(tx, auditJob, { auditId: id }, now, { dedupeKey: `audit:${id}` });
  return id;
}
