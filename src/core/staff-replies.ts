import type { AccessAfter, CancelOutcome } from './cancel-plan.ts';
import { describeDuration, type Duration } from './duration.ts';
import type { EntitlementSource } from './entitlement.ts';
import { formatDiscordTime as time, SEVERITY_COLORS, type Embed } from './messages.ts';
import type { Tier } from './tiers.ts';

/**
 * What staff read after `/admin grant`, `extend` and `revoke` (and the
 * revoke buttons). Pure: facts in, text out. Times use Discord's full date
 * and time (`<t:…:f>`), since grants end at an exact moment.
 */

/** What the member holds after the action, as entitlement() says. */
export interface HeldNow {
  tier: Tier | null;
  source: EntitlementSource | null;
  until: number | null;
}

export function describeHeld(memberId: string, h: HeldNow): string {
  if (h.tier === null || h.source === null) return `<@${memberId}> now holds no tier; their tier role is removed.`;
  const from = h.source.kind === 'subscription' ? `their PayPal subscription \`${h.source.id}\`` : `staff grant #${h.source.id}`;
  return `<@${memberId}> now holds **${h.tier.name}** from ${from}${h.until === null ? '' : ` until ${time(h.until)}`}.`;
}

export function grantReply(f: { memberId: string; tier: Tier; duration: Duration; defaulted: boolean; expiresAt: number | null; grantId: number; held: HeldNow }): string {
  const length = f.expiresAt === null ? `with no end date (lifetime${f.defaulted ? ', the default when no duration is given' : ''})` : `for ${describeDuration(f.duration)}, until ${time(f.expiresAt)}`;
  const lines = [`Granted **${f.tier.name}** to <@${f.memberId}> ${length} (grant #${f.grantId}).`];
  if (f.held.source?.kind === 'grant' && f.held.source.id === f.grantId) lines.push('Their tier role is being updated now.');
  else if (f.held.tier !== null && f.held.tier.rank >= f.tier.rank) {
    lines.push(`${describeHeld(f.memberId, f.held)} This grant takes over if that ends first.`);
  }
  return lines.join('\n');
}

export function extendReply(memberId: string, summary: string, held: HeldNow): string {
  return `${summary[0]?.toUpperCase() ?? ''}${summary.slice(1)}.\n${describeHeld(memberId, held)}`;
}

export interface RevokeFacts {
  memberId: string;
  grantsEnded: number;
  held: HeldNow;
  /** The PayPal subscription still giving access, if any: what staff may decide on with the buttons. */
  subscription: { id: string; tier: Tier | undefined; cancellable: boolean; afterCancel: AccessAfter } | null;
  onCancel: 'period_end' | 'immediate';
  buttonMinutes: number;
}

export const NOTHING_TO_REVOKE = (memberId: string) => `<@${memberId}> has no running staff grant and no PayPal subscription giving access: nothing to revoke.`;

export function revokeEmbed(f: RevokeFacts, now: number): Embed {
  const ended = f.grantsEnded === 0 ? 'They had no running staff grant.' : `Ended ${f.grantsEnded} staff grant${f.grantsEnded === 1 ? '' : 's'} now.`;
  const lines = [ended, describeHeld(f.memberId, f.held)];
  const s = f.subscription;
  if (s !== null) {
    const name = s.tier?.name ?? 'membership';
    const keeps = s.afterCancel.tier === null || (s.afterCancel.until !== null && s.afterCancel.until <= now) ? 'access ends at once' : `they keep **${s.afterCancel.tier.name}**${s.afterCancel.until === null ? '' : ` until ${time(s.afterCancel.until)}`}`;
    lines.push('');
    if (s.cancellable) {
      lines.push(
        `Their **${name}** access comes from PayPal subscription \`${s.id}\`, which is still billing.`,
        `• **Cancel at PayPal**: nothing more is charged (the reason goes to PayPal); under the cancel policy (${f.onCancel}) ${keeps}.`,
        '• **Cancel and end access now**: the same, and the tier is removed at once.',
      );
    } else {
      lines.push(`Their **${name}** access comes from PayPal subscription \`${s.id}\`, already cancelled: ${keeps}.`, '• **End access now** removes the tier at once.');
    }
    lines.push(`Leave the buttons alone to keep the subscription as it is. (They work for ${f.buttonMinutes} minutes.)`);
  }
  return { title: 'Access revoked', description: lines.join('\n'), color: s === null ? SEVERITY_COLORS.warning : SEVERITY_COLORS.danger };
}

export const STALE_REVOKE = 'This revoke no longer matches the member’s subscription; nothing was changed. Run `/admin revoke` again.';

export function revokeDecisionText(f: { memberId: string; subscriptionId: string; paypal: CancelOutcome; endedNow: boolean; held: HeldNow }): string {
  const sub = `\`${f.subscriptionId}\``;
  const paypal =
    f.paypal.kind === 'cancelled' ? `Cancelled ${sub} at PayPal.`
    : f.paypal.kind === 'already_cancelled' ? `${sub} was already cancelled at PayPal.`
    : f.paypal.kind === 'accepted' ? `PayPal accepted the cancellation of ${sub}; its new state follows with PayPal's webhook.`
    : f.paypal.kind === 'not_cancellable' ? `PayPal reports ${sub} as ${f.paypal.paypalStatus.toLowerCase()}: nothing to cancel there.`
    : `${sub} is not this member's subscription any more.`;
  const access = f.endedNow ? ' Access from it ended now.' : '';
  return `${paypal}${access}\n${describeHeld(f.memberId, f.held)}`;
}
