import type { ChatInputCommandInteraction } from 'discord.js';
import type { CommandDeps, CommandReply, Invocation } from './types.ts';

/**
 * `/admin resync [member]`, `/admin export` and `/admin reconcile`: a
 * placeholder, replaced by the maintenance work.
 *
 * Contract: admin.ts calls
 *   handleAdminMaintenance(sub, interaction, { deps, inv })
 * after the staff check has passed, inside the command's deferred ephemeral
 * reply ("thinking…" is showing).
 *   - sub: 'resync' | 'export' | 'reconcile';
 *   - interaction: the /admin interaction (resync's optional `member` is
 *     `interaction.options.getUser('member')`); already deferred, so a
 *     progress message is `interaction.editReply(...)`;
 *   - deps: the command dependencies (store, tiers, paypal, clock, log …);
 *     inv: the caller (`inv.userId`, the acting staff member), `inv.now`,
 *     `inv.log`.
 * The reply it resolves to replaces the deferred message (the router edits it
 * in); a MemberFacingError is shown as-is.
 */

export type AdminMaintenanceSubcommand = 'resync' | 'export' | 'reconcile';

export async function handleAdminMaintenance(sub: AdminMaintenanceSubcommand, _interaction: ChatInputCommandInteraction, _ctx: { deps: CommandDeps; inv: Invocation }): Promise<CommandReply> {
  return { content: `\`/admin ${sub}\` is not available yet.` };
}
