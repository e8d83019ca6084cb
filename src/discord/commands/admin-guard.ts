import { PermissionFlagsBits, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import { isStaff, STAFF_REFUSAL, type Caller } from '../../core/staff.ts';
import type { TiersSource } from '../../tiers.ts';
import { MemberFacingError, type CommandReply, type Invocation, type SlashCommand } from './types.ts';

/**
 * The staff check every `/admin` and `/publisher` interaction (and every
 * button under their replies) passes before doing anything. It reads the
 * caller's roles and permissions from the interaction Discord just sent, not
 * from a cache, and the staff roles from the tiers file in force now, so a
 * role taken away or a file edited counts at the next click.
 */

function callerOf(i: ChatInputCommandInteraction | ButtonInteraction): Caller {
  const m = i.member;
  // An uncached guild hands over the raw API member (role ids), a cached one a GuildMember.
  const roleIds = m === null ? [] : Array.isArray(m.roles) ? m.roles : [...m.roles.cache.keys()];
  return { roleIds, administrator: i.memberPermissions?.has(PermissionFlagsBits.Administrator) ?? false };
}

/** Throws the refusal (shown to the caller as-is, nothing changed) unless the caller is staff. */
export function assertStaff(i: ChatInputCommandInteraction | ButtonInteraction, tiers: TiersSource, inv: Invocation): void {
  if (isStaff(callerOf(i), tiers.current().file.staff_role_ids)) return;
  inv.log.warn({ command: i.isChatInputCommand() ? `${i.commandName} ${i.options.getSubcommand(false) ?? ''}`.trim() : i.customId }, 'staff command refused: caller is not staff');
  throw new MemberFacingError(STAFF_REFUSAL);
}

/**
 * A staff command (`/admin`, `/publisher`): the staff check runs before any
 * subcommand, so no handler can be reached without it. Subcommands in
 * `storeOnly` answer from the store alone and reply at once; the others do
 * slow work (PayPal, an image fetch, a full resync) and are deferred. A
 * refusal of a non-staff caller goes out the same way as the answer would.
 */
export function staffCommand(
  name: string,
  tiers: TiersSource,
  storeOnly: ReadonlySet<string>,
  run: (sub: string, i: ChatInputCommandInteraction, inv: Invocation) => Promise<CommandReply>,
): SlashCommand {
  return {
    name,
    defer: (i) => !storeOnly.has(i.options.getSubcommand(false) ?? ''),
    run: async (i, inv) => {
      assertStaff(i, tiers, inv);
      return run(i.options.getSubcommand(true), i, inv);
    },
  };
}
