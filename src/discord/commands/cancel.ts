import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import { cancelFromDiscord, previewCancel } from '../../app/cancel-subscription.ts';
import { cancelOutcomeText, cancelPrompt, cancelRefusal, EXPIRED_TEXT, KEEP_TEXT } from '../../core/cancel-plan.ts';
import { buttonId, MemberFacingError, type ButtonHandler, type CommandDeps, type SlashCommand } from './types.ts';

/**
 * /cancel: shows what cancelling would do, from the store alone (no defer),
 * with Confirm and Keep buttons; Confirm cancels at PayPal (deferred: PayPal
 * may be slow) and applies the result like a webhook would.
 */

const PREFIX = 'cancel';

export function cancelCommand(deps: CommandDeps): SlashCommand {
  return {
    name: 'cancel',
    defer: false,
    // A double click gets the first answer; the confirmation itself is the guard against a mistaken cancel.
    cooldownMs: 5_000,
    run: async (_i, inv) => {
      const plan = previewCancel(deps, inv.userId, deps.tiers.current(), inv.now);
      if (plan.kind !== 'cancellable') return { content: cancelRefusal(plan, inv.now) };
      // `cancel:<user>:<issued>:confirm:<I-…>` is about 60 characters (a PayPal id is 14); buttonId refuses anything over Discord's 100.
      const id = (action: 'confirm' | 'keep') => buttonId(PREFIX, inv.userId, inv.now, action, plan.subscriptionId);
      return {
        embeds: [cancelPrompt(plan, inv.now)],
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              { type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Cancel my subscription', custom_id: id('confirm') },
              { type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Keep it', custom_id: id('keep') },
            ],
          },
        ],
      };
    },
  };
}

/** Confirm / Keep under the /cancel question. Only the member who ran /cancel can click them (the router checks). */
export function cancelButton(deps: CommandDeps): ButtonHandler {
  return {
    prefix: PREFIX,
    ttlMs: 5 * 60_000,
    // One handler serves both buttons; Confirm calls PayPal, so both defer (Keep just edits a moment later).
    defer: true,
    run: async (_i, inv, [action, subscriptionId]) => {
      if (action === 'keep') return { content: KEEP_TEXT };
      if (action !== 'confirm' || subscriptionId === undefined) throw new MemberFacingError('This button is not in use any more; run /cancel again.');
      const outcome = await cancelFromDiscord({ ...deps, log: inv.log }, inv.userId, subscriptionId);
      inv.log.info({ subscriptionId, outcome: outcome.kind }, 'member cancel from Discord');
      return { content: cancelOutcomeText(outcome, deps.clock()) };
    },
    expired: () => ({ content: EXPIRED_TEXT }),
  };
}
