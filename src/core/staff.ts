/**
 * Who counts as staff, and how a staff action is written down. Pure: the
 * Discord adapter reads the caller's roles and permissions off the
 * interaction and asks here.
 */

/** The caller as Discord describes them on the interaction itself (not a cached member, which may be stale). */
export interface Caller {
  roleIds: readonly string[];
  /** The interaction's member permissions include Administrator (the guild owner's always do). */
  administrator: boolean;
}

/**
 * SPEC "Staff commands": a role listed in `staff_role_ids`, or Administrator.
 * Checked on every interaction: `default_member_permissions: "0"` only hides
 * the commands, and a server can override that per role or channel.
 */
export function isStaff(caller: Caller, staffRoleIds: readonly string[]): boolean {
  if (caller.administrator) return true;
  const staff = new Set(staffRoleIds);
  return caller.roleIds.some((id) => staff.has(id));
}

export const STAFF_REFUSAL = 'This command is for staff only (a staff role from the tiers file, or Administrator). Nothing was changed.';

export type StaffActionKind = 'lookup' | 'grant' | 'revoke' | 'cancel' | 'end_access' | 'extend' | 'publisher';

export interface StaffAction {
  action: StaffActionKind;
  actorId: string;
  /** The member acted on; null when the target is not a member (the publisher profile). */
  targetId: string | null;
  /** What was done, in a sentence without the actor ("granted <@1> Elite for 7 days"). */
  summary: string;
  /** Why, as staff gave it; null when the command takes no reason. */
  reason: string | null;
}

/** Audit severity of each action: ending access stands out in the channel, a read does not. */
const SEVERITY: Readonly<Record<StaffActionKind, 'info' | 'success' | 'warning' | 'danger'>> = {
  lookup: 'info',
  grant: 'success',
  extend: 'success',
  publisher: 'info',
  revoke: 'warning',
  cancel: 'warning',
  end_access: 'danger',
};

/** The one audit entry of a staff action: its kind, severity and message, naming actor, target and reason. */
export function describeStaffAction(a: StaffAction): { kind: string; severity: 'info' | 'success' | 'warning' | 'danger'; message: string } {
  const reason = a.reason === null || a.reason.trim() === '' ? 'no reason given' : `reason: ${a.reason.trim()}`;
  return { kind: `staff.${a.action}`, severity: SEVERITY[a.action], message: `<@${a.actorId}> ${a.summary} (${reason})` };
}
