import { readMemberOverview } from '../../app/member-overview.ts';
import { entitlement } from '../../core/entitlement.ts';
import { scriptsEmbed } from '../../core/script-access.ts';
import type { CommandDeps, SlashCommand } from './types.ts';

/**
 * /scripts: every catalogue script, unlocked or with the tier that unlocks
 * it. Store only, answered without a defer. Serials (SPEC "Serials") are not
 * issued yet: when they are, read the member's here and pass them to
 * scriptsEmbed, which already shows one per unlocked script.
 */
export function scriptsCommand(deps: CommandDeps): SlashCommand {
  return {
    name: 'scripts',
    defer: false,
    run: async (_i, inv) => {
      const catalog = deps.tiers.current();
      const o = readMemberOverview(deps.store, inv.userId);
      const { tier } = entitlement(o.subscriptions, o.grants, catalog, inv.now);
      return { embeds: [scriptsEmbed(tier, catalog)] };
    },
  };
}
