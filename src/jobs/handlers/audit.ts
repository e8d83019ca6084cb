import { auditEmbed, type Embed } from '../../core/messages.ts';
import { getAudit } from '../../store/audit-repo.ts';
import type { Store } from '../../store/db.ts';
import { auditJob } from '../definitions.ts';
import { handleJob } from '../handler.ts';

/**
 * Posts an audit entry to the audit channel. The entry was recorded in the
 * same transaction as the change it describes, and this job with it, so a
 * post is never lost; a retry after a crash can at worst post it twice.
 */
export function auditHandler(deps: { store: Store; messenger: { postAudit(embed: Embed): Promise<void> } }) {
  return handleJob(auditJob, async (payload, ctx) => {
    const entry = getAudit(deps.store.db, payload.auditId);
    if (entry === undefined) return;
    ctx.log.info({ auditId: entry.id, auditKind: entry.kind, severity: entry.severity, memberId: entry.memberId, subscriptionId: entry.subscriptionId, eventId: entry.eventId }, entry.message);
    await deps.messenger.postAudit(auditEmbed(entry));
  });
}
