import { syncMemberRoles, type RoleSyncDeps } from '../app/sync-member-roles.ts';
import { roleSyncJob } from '../jobs/definitions.ts';
import { handleJob } from '../jobs/handler.ts';

/** Reconciles a member's managed roles on Discord with their entitlement (app/sync-member-roles.ts). */
export function roleSyncHandler(deps: RoleSyncDeps) {
  return handleJob(roleSyncJob, (p, ctx) => syncMemberRoles(deps, p, ctx.log));
}
