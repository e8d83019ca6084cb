import type { TierCatalog } from './tiers.ts';

/**
 * Role sync's decision, pure: the managed roles a member should hold (the
 * role of their one highest tier, or none) against the roles Discord says
 * they hold. Only roles some tier manages are ever added or removed.
 */

export interface RoleDiff {
  add: string[];
  remove: string[];
}

export function desiredManagedRoles(tierKey: string | null, catalog: TierCatalog): Set<string> {
  const tier = tierKey === null ? undefined : catalog.byKey(tierKey);
  return new Set(tier === undefined ? [] : [tier.role_id]);
}

export function diffRoles(held: Iterable<string>, desired: ReadonlySet<string>, managed: ReadonlySet<string>): RoleDiff {
  const heldSet = new Set(held);
  const add = [...desired].filter((r) => managed.has(r) && !heldSet.has(r));
  const remove = [...heldSet].filter((r) => managed.has(r) && !desired.has(r));
  return { add: add.sort(), remove: remove.sort() };
}
