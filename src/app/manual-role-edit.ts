import { desiredManagedRoles } from '../core/role-diff.ts';
import { findManualEdit, type ManualEdit, type RoleChange } from '../core/manual-role-edit.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { DbOrTx, Store } from '../store/db.ts';
import { hasPendingJob } from '../store/job-admin-repo.ts';
import { getMember } from '../store/member-repo.ts';
import { recordAudit } from './audit.ts';

/** Reads the member's entitlement and decides whether this role change is a manual edit of managed roles. */
export function reviewRoleChange(
  db: DbOrTx,
  catalog: TierCatalog,
  memberId: string,
  change: RoleChange,
  madeByUs: (roleId: string, op: 'add' | 'remove') => boolean,
): ManualEdit | null {
  // Roles before the change unknown (the member is not cached) and their role sync queued or running: the change is
  // that sync at work. A sync changes roles one call at a time, so between its calls the member holds a mix (the new
  // tier's role added, the old one not yet removed) that, judged on the result alone, looks like a manual edit. A
  // bulk resync (which leaves its members uncached) then read Discord's audit log once per wrong-tier member only to
  // find the bot as the editor, and those reads competed with the role calls for the rate limit (bench:roles, 150
  // reads at 1,000 members). A real edit in that window is left to the pending sync, which sets the entitled roles,
  // or, for a sync already past its read, to the next scheduled reconcile.
  if (change.before === null && hasPendingJob(db, roleSyncJob.kind, memberId)) return null;
  const tier = getMember(db, memberId)?.entitledTier ?? null;
  return findManualEdit(change, desiredManagedRoles(tier, catalog), catalog.managedRoleIds, madeByUs);
}

/**
 * Applies policy `on_manual_role_edit` in one transaction: `revert` enqueues
 * a role sync (which restores exactly the entitled roles) and audits it;
 * `report` only audits. `who` names the editor when Discord's audit log did.
 */
export function handleManualRoleEdit(
  store: Store,
  catalog: TierCatalog,
  memberId: string,
  edit: ManualEdit,
  who: string | null,
  now: number,
): 'revert' | 'report' {
  const policy = catalog.policy.on_manual_role_edit;
  const roleName = (id: string) => catalog.tiers.find((t) => t.role_id === id)?.name ?? id;
  const what = [...edit.added.map((r) => `gave ${roleName(r)}`), ...edit.removed.map((r) => `removed ${roleName(r)}`)].join(', ');
  const by = who === null ? 'someone other than Concierge' : `<@${who}>`;
  store.transaction((tx) => {
    if (policy === 'revert') enqueue(tx, roleSyncJob, { memberId }, now, { dedupeKey: memberId });
    recordAudit(
      tx,
      {
        kind: 'roles.manual_edit',
        severity: 'warning',
        memberId,
        message: `Manual role edit on <@${memberId}> by ${by}: ${what}. ${policy === 'revert' ? 'Reverted to the entitled roles (policy revert).' : 'Left as is (policy report).'}`,
        data: { added: edit.added, removed: edit.removed, by: who, policy },
      },
      now,
    );
  });
  return policy;
}
