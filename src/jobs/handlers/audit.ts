import { z } from 'zod';
import { getAudit } from '../../store/audit-repo.ts';
import type { Store } from '../../store/db.ts';
import { defineJobHandler } from '../runner.ts';

/**
 * Publishes an audit entry. The entry is already in the store (recorded in
 * the same transaction as the change); posting it to the audit channel
 * arrives with the Discord client. Here it is written to the log.
 */
export function auditHandler(deps: { store: Store }) {
  return defineJobHandler({
    schema: z.object({ auditId: z.number().int().positive() }),
    run: async (payload, ctx) => {
      const entry = getAudit(deps.store.db, payload.auditId);
      if (entry === undefined) return;
      ctx.log.info({ auditId: entry.id, auditKind: entry.kind, severity: entry.severity, memberId: entry.memberId, subscriptionId: entry.subscriptionId, eventId: entry.eventId }, entry.message);
    },
  });
}
