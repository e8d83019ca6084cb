import { readMemberOverview } from '../../app/member-overview.ts';
import { entitlement } from '../../core/entitlement.ts';
import { scriptsEmbed } from '../../core/script-access.ts';
import type { CommandDeps, SlashCommand } from './types.ts';

/**
 * /scripts: every catalogue script, unlocked with the member's serial or
 * locked with the tier that unlocks it. Store only, answered without a defer.
 */
export function scriptsCommand(deps: CommandDeps): SlashCommand {
  return {
    name: 'scripts',
    defer: false,
    run: async (_i, inv) => {
      const catalog = deps.tiers.current();
      const o = readMemberOverview({ store: deps.store, vault: deps.effects.vault }, inv.userId);
      const { tier } = entitlement(o.subscriptions, o.grants, catalog, inv.now);
      return { embeds: [scriptsEmbed(tier, catalog, o.serials)] };
    },
  };
}
