import { sendMemberDm, type MemberDmDeps } from '../app/send-member-dm.ts';
import { dmJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** Sends a member DM (app/send-member-dm.ts); a closed DM is audited once, not retried. */
export function dmHandler(deps: MemberDmDeps) {
  return handleJob(dmJob, (p, ctx) => sendMemberDm(deps, p, { id: ctx.job.id, now: ctx.now }));
}
