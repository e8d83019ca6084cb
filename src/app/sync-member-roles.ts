import { desiredManagedRoles, diffRoles } from '../core/role-diff.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { getMember } from '../store/member-repo.ts';
import type { TiersSource } from '../tiers.ts';

/** What role sync needs from Discord (discord/roles.ts implements it). */
export interface RoleGateway {
  /** The member's role ids as Discord reports them now, or null when they are not in the guild. */
  fetchRoles(userId: string): Promise<string[] | null>;
  /** Adds or removes one role; throws an error whose `retry` tells the job runner whether trying again can help. */
  apply(userId: string, roleId: string, op: 'add' | 'remove', reason: string): Promise<void>;
}

export interface RoleSyncDeps {
  store: Store;
  tiers: TiersSource;
  roles: RoleGateway;
}

/**
 * The role-sync reconciler: the managed roles the member should hold (from
 * the stored entitlement) against the roles Discord says they hold now;
 * only the difference is applied, so a second run makes no call and a role
 * no tier manages is never touched. A failed call throws (the runner retries
 * or dead-letters); nothing is removed because a call failed.
 */
export async function syncMemberRoles(deps: RoleSyncDeps, p: { memberId: string; held?: readonly string[] | null | undefined }, log: Logger): Promise<void> {
  const { memberId } = p;
  const tier = getMember(deps.store.db, memberId)?.entitledTier ?? null;
  const catalog = deps.tiers.current();
  // A bulk resync's job brings the managed roles from its member fetch (app/resync.ts says why that is current enough).
  const held = p.held !== undefined ? p.held : await deps.roles.fetchRoles(memberId);
  if (held === null) {
    // Nothing to remember: the entitlement is stored, and guildMemberAdd enqueues a sync when they join.
    log.info({ memberId, tier }, 'member is not in the guild; roles follow when they join');
    return;
  }
  const diff = diffRoles(held, desiredManagedRoles(tier, catalog), catalog.managedRoleIds);
  if (diff.add.length === 0 && diff.remove.length === 0) {
    log.debug({ memberId, tier }, 'roles already right');
    return;
  }
  const reason = `Concierge role sync: tier ${tier === null ? 'none' : (catalog.byKey(tier)?.name ?? tier)}`;
  // Adds first: a tier change never leaves a paying member without any tier role in between.
  for (const roleId of diff.add) await deps.roles.apply(memberId, roleId, 'add', reason);
  for (const roleId of diff.remove) await deps.roles.apply(memberId, roleId, 'remove', reason);
  log.info({ memberId, tier, added: diff.add, removed: diff.remove }, 'roles synced');
}
