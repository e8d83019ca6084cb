/**
 * Whether a change to a member's roles is a manual edit of managed roles
 * (SPEC "Manual role edits"): a managed role the member should hold was
 * removed, or a managed role they should not hold was added. Pure: the
 * caller says which changes Concierge made itself.
 */

export interface RoleChange {
  /** Roles before the change; null when unknown (an uncached member: discord.js sends a partial). */
  before: readonly string[] | null;
  after: readonly string[];
}

export interface ManualEdit {
  /** Managed roles given to a member not entitled to them. */
  added: string[];
  /** Managed roles taken from a member entitled to them. */
  removed: string[];
}

export function findManualEdit(
  change: RoleChange,
  desired: ReadonlySet<string>,
  managed: ReadonlySet<string>,
  madeByUs: (roleId: string, op: 'add' | 'remove') => boolean,
): ManualEdit | null {
  const after = new Set(change.after);
  // Unknown "before": judge the result alone (what the member holds against what they should hold).
  const before = change.before === null ? null : new Set(change.before);
  const added = [...after].filter((r) => managed.has(r) && !desired.has(r) && (before === null || !before.has(r)) && !madeByUs(r, 'add'));
  const removed = [...desired].filter((r) => managed.has(r) && !after.has(r) && (before === null || before.has(r)) && !madeByUs(r, 'remove'));
  return added.length === 0 && removed.length === 0 ? null : { added: added.sort(), removed: removed.sort() };
}
