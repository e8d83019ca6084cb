import { postAuditEntry, type AuditChannel } from '../app/post-audit-entry.ts';
import type { Store } from '../store/db.ts';
import { auditJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** Posts a recorded audit entry to the audit channel (app/post-audit-entry.ts). */
export function auditHandler(deps: { store: Store; messenger: AuditChannel }) {
  return handleJob(auditJob, (p, ctx) => postAuditEntry(deps, p.auditId, ctx.log));
}
