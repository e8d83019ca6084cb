import { readMemberOverview } from '../../app/member-overview.ts';
import { statusEmbed } from '../../core/member-summary.ts';
import type { CommandDeps, SlashCommand } from './types.ts';

/**
 * /status: the member's tier, where it comes from, its state and dates, the
 * last payment. Store only (no PayPal call), so it answers without a defer.
 */
export function statusCommand(deps: CommandDeps): SlashCommand {
  return {
    name: 'status',
    defer: false,
    run: async (_i, inv) => ({ embeds: [statusEmbed(readMemberOverview({ store: deps.store, vault: deps.effects.vault }, inv.userId), deps.tiers.current(), inv.now)] }),
  };
}
