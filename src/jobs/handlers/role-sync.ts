import { desiredManagedRoles, diffRoles } from '../../core/role-diff.ts';
import type { MemberRoles } from '../../discord/roles.ts';
import type { Store } from '../../store/db.ts';
import { getMember } from '../../store/member-repo.ts';
import type { TiersSource } from '../../tiers.ts';
import { roleSyncJob } from '../definitions.ts';
import { handleJob } from '../handler.ts';

/**
 * The role-sync reconciler: the managed roles the member should hold (from
 * the stored entitlement) against the roles Discord says they hold now;
 * only the difference is applied, so a second run makes no call and a role
 * no tier manages is never touched. A failed call throws (the runner retries
 * or dead-letters); nothing is removed because a call failed.
 */
export function roleSyncHandler(deps: { store: Store; tiers: TiersSource; roles: MemberRoles }) {
  return handleJob(roleSyncJob, async ({ memberId, resync }, ctx) => {
    const tier = getMember(deps.store.db, memberId)?.entitledTier ?? null;
    const catalog = deps.tiers.current();
    const held = await deps.roles.fetchRoles(memberId, { cached: resync === true });
    if (held === null) {
      // Nothing to remember: the entitlement is stored, and guildMemberAdd enqueues a sync when they join.
      ctx.log.info({ memberId, tier }, 'member is not in the guild; roles follow when they join');
      return;
    }
    const diff = diffRoles(held, desiredManagedRoles(tier, catalog), catalog.managedRoleIds);
    if (diff.add.length === 0 && diff.remove.length === 0) {
      ctx.log.debug({ memberId, tier }, 'roles already right');
      return;
    }
    const reason = `Concierge role sync: tier ${tier === null ? 'none' : (catalog.byKey(tier)?.name ?? tier)}`;
    // Adds first: a tier change never leaves a paying member without any tier role in between.
    for (const roleId of diff.add) await deps.roles.apply(memberId, roleId, 'add', reason);
    for (const roleId of diff.remove) await deps.roles.apply(memberId, roleId, 'remove', reason);
    ctx.log.info({ memberId, tier, added: diff.add, removed: diff.remove }, 'roles synced');
  });
}
