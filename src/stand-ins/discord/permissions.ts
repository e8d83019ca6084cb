import { PermissionFlagsBits } from 'discord-api-types/v10';
import type { StoredRole } from './shapes.ts';
import { missingPermissions, unknown } from './errors.ts';

/**
 * Guild-level permissions and the role hierarchy, as Discord applies them
 * to role edits: the bot needs MANAGE_ROLES (or ADMINISTRATOR), and every
 * role it adds or removes must sit strictly below its highest role. The
 * owner bypasses both. Channel overwrites are not modelled.
 */

export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((acc, bit) => acc | bit, 0n);

/** What the bot's role gets unless a test says otherwise: enough to run Concierge. */
export const DEFAULT_BOT_PERMISSIONS =
  PermissionFlagsBits.ManageRoles |
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.ViewAuditLog;

/** @everyone's defaults in a new guild (a subset that matters here). */
export const DEFAULT_EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.UseApplicationCommands;

export function toBits(p: bigint | number | string | undefined, fallback: bigint): bigint {
  if (p === undefined) return fallback;
  return BigInt(p);
}

export interface HierarchyView {
  guildId: string;
  ownerId: string;
  role(id: string): StoredRole | undefined;
  memberRoles(userId: string): readonly string[] | undefined;
}

/** Base permissions of a member: @everyone | each role; everything for the owner or an administrator. */
export function memberPermissions(view: HierarchyView, userId: string): bigint {
  if (userId === view.ownerId) return ALL_PERMISSIONS;
  let bits = view.role(view.guildId)?.permissions ?? 0n;
  for (const id of view.memberRoles(userId) ?? []) bits |= view.role(id)?.permissions ?? 0n;
  return (bits & PermissionFlagsBits.Administrator) !== 0n ? ALL_PERMISSIONS : bits;
}

/** The position of a member's highest role (0 = only @everyone). */
export function topPosition(view: HierarchyView, userId: string): number {
  let top = 0;
  for (const id of view.memberRoles(userId) ?? []) top = Math.max(top, view.role(id)?.position ?? 0);
  return top;
}

/**
 * Throws Discord's answer when `actorId` may not add or remove `roleIds`:
 * 404 Unknown Role, or 403 50013 Missing Permissions.
 */
export function assertCanManageRoles(view: HierarchyView, actorId: string, roleIds: readonly string[]): void {
  for (const id of roleIds) if (!view.role(id)) throw unknown('role');
  if (actorId === view.ownerId || roleIds.length === 0) return;
  const perms = memberPermissions(view, actorId);
  if ((perms & PermissionFlagsBits.ManageRoles) === 0n) throw missingPermissions();
  const top = topPosition(view, actorId);
  for (const id of roleIds) {
    const role = view.role(id);
    if (!role || role.position >= top) throw missingPermissions();
    // Integration roles cannot be granted or removed by anyone.
    if (role.managedBy !== null) throw missingPermissions();
  }
}

export function hasPermission(view: HierarchyView, userId: string, bit: bigint): boolean {
  return (memberPermissions(view, userId) & bit) !== 0n;
}
