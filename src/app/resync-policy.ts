import type { Logger } from '../log.ts';
import type { TiersSource } from '../tiers.ts';

/** New gateway sessions (discord/client.ts implements it). */
export interface GatewaySessions {
  /** Called at each new session after the first: a session that was not resumed, so events may have been lost. */
  onNewSession(listener: () => void): void;
}

/**
 * When Concierge re-syncs every member's roles by itself:
 * - after a new gateway session (the old one was invalidated, not resumed):
 *   role changes and joins in between were never seen;
 * - after the tiers file gives a tier another role: entitled members need
 *   the new role now, not at their next change. A role no tier names any
 *   more is not Concierge's: it is left on members for staff to remove.
 */
export function applyResyncPolicy(d: { gateway: GatewaySessions; tiers: TiersSource; resyncAll: () => Promise<unknown>; log: Logger }): void {
  const resync = (why: string) => d.resyncAll().catch((err: unknown) => d.log.error({ err }, `resync after ${why} failed`));
  d.gateway.onNewSession(() => {
    d.log.warn('new gateway session: events may have been lost; resyncing every member');
    void resync('a new gateway session');
  });
  let managedRoles = d.tiers.current().managedRoleIds;
  d.tiers.onChange((catalog) => {
    const before = managedRoles;
    managedRoles = catalog.managedRoleIds;
    const added = [...managedRoles].filter((r) => !before.has(r));
    if (added.length === 0) return;
    const released = [...before].filter((r) => !managedRoles.has(r));
    d.log.warn({ added, released }, 'tier roles changed in the tiers file; resyncing every member');
    void resync('a tier role change');
  });
}
