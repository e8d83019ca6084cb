import { auditEmbed, type Embed } from '../core/messages.ts';
import type { Logger } from '../log.ts';
import { getAudit } from '../store/audit-repo.ts';
import type { Store } from '../store/db.ts';

/** Where audit entries are published (discord/messenger.ts implements it). */
export interface AuditChannel {
  /** Posts one embed; throws an error whose `retry` tells the job runner whether trying again can help. */
  /** `once`: a key of at most 25 characters; the same key again within a few minutes posts nothing new. */
  postAudit(embed: Embed, once: string): Promise<void>;
}

/**
 * Posts a recorded audit entry to the audit channel. The entry was recorded
 * in the same transaction as the change it describes, and the job that runs
 * this with it, so a post is never lost; the entry's id keys the post, so a
 * retry after a crash (within Discord's few-minute nonce window) does not post it twice. An entry that is gone has nothing left to post.
 */
export async function postAuditEntry(deps: { store: Store; messenger: AuditChannel }, auditId: number, log: Logger): Promise<void> {
  const entry = getAudit(deps.store.db, auditId);
  if (entry === undefined) return;
  log.info({ auditId: entry.id, auditKind: entry.kind, severity: entry.severity, memberId: entry.memberId, subscriptionId: entry.subscriptionId, eventId: entry.eventId }, entry.message);
  await deps.messenger.postAudit(auditEmbed(entry), `audit-${entry.id}`);
}
