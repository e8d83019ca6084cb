import { desiredManagedRoles } from '../core/role-diff.ts';
import { findManualEdit, type ManualEdit, type RoleChange } from '../core/manual-role-edit.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { DbOrTx, Store } from '../store/db.ts';
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
