import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import { startCheckout } from '../../app/start-checkout.ts';
import { checkoutReply } from '../../core/checkout-replies.ts';
import { MemberFacingError, type CommandDeps, type CommandReply, type SlashCommand } from './types.ts';

/**
 * `/subscribe tier [plan]`: a PayPal checkout for a tier, a plan change of
 * the member's subscription, or the answer that they already hold it.
 * Deferred, because PayPal may take longer than Discord's 3 s; the cooldown
 * makes a double click share one run, so PayPal sees one call.
 */
export function subscribeCommand(deps: CommandDeps): SlashCommand {
  return {
    name: 'subscribe',
    defer: true,
    cooldownMs: 10_000,
    run: async (i, inv) => {
      const outcome = await startCheckout(deps, {
        memberId: inv.userId,
        tierKey: i.options.getString('tier', true),
        planName: i.options.getString('plan'),
        now: inv.now,
      });
      if (outcome.kind === 'refused') throw new MemberFacingError(outcome.message);
      inv.log.info({ outcome: outcome.kind, tier: outcome.tier.key }, '/subscribe answered');
      const r = checkoutReply(outcome, deps.tiers.current(), deps.serverName());
      const reply: CommandReply = {};
      if (r.content !== undefined) reply.content = r.content;
      if (r.embed !== undefined) reply.embeds = [r.embed];
      if (r.link !== undefined) {
        reply.components = [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Link, label: r.link.label, url: r.link.url }] }];
      }
      return reply;
    },
  };
}
