import { entitlement, type GrantFacts } from './entitlement.ts';
import { resolveSubscriptionTier, type SummarySubscription } from './member-summary.ts';
import { formatDiscordDate, SEVERITY_COLORS, type Embed } from './messages.ts';
import type { Tier, TierCatalog } from './tiers.ts';

/**
 * /cancel decisions and texts. Pure: which subscription a member can cancel,
 * what they keep afterwards (the same entitlement() role sync uses, so the
 * promise made before the click is what happens), and what to say.
 */

/** States PayPal can still cancel (pending ones were never approved: nothing is charged, nothing to cancel). */
const CANCELLABLE: ReadonlySet<string> = new Set(['active', 'past_due', 'suspended']);

export function isCancellable(state: string): boolean {
  return CANCELLABLE.has(state);
}

/** What a subscription alone gives the member: its tier (or a downgrade's carried tier) and until when. */
export interface AccessAfter {
  tier: Tier | null;
  until: number | null;
}

export type CancelPlan =
  | { kind: 'nothing' }
  | { kind: 'grant_only'; tier: Tier }
  | { kind: 'already_cancelled'; subscriptionId: string; after: AccessAfter }
  | { kind: 'cancellable'; subscriptionId: string; tier: Tier | undefined; after: AccessAfter };

/** What a stored subscription gives now (for a cancelled one: what is left of the paid period). */
export function accessFrom(sub: SummarySubscription, catalog: TierCatalog, now: number): AccessAfter {
  const e = entitlement([sub], [], catalog, now);
  return { tier: e.tier, until: e.until };
}

/**
 * What cancelling would leave, as applySubscription will derive it from
 * PayPal's CANCELLED answer (SPEC "Paid-through"): policy period_end keeps
 * access until paid-through (ends now when unknown), immediate ends it now.
 */
export function computeAccessAfterCancel(sub: SummarySubscription, catalog: TierCatalog, now: number): AccessAfter {
  const accessUntil = catalog.policy.on_cancel === 'immediate' ? now : (sub.paidThrough ?? now);
  return accessFrom({ ...sub, state: 'cancelled', accessUntil }, catalog, now);
}

/**
 * The subscription /cancel offers: the one giving the member's current tier
 * when it is cancellable, else the highest-tier cancellable one (newest on a
 * tie). A member with two live subscriptions cancels them one at a time.
 */
export function planCancel(subs: readonly SummarySubscription[], grants: readonly GrantFacts[], catalog: TierCatalog, now: number): CancelPlan {
  const e = entitlement(subs, grants, catalog, now);
  const rank = (s: SummarySubscription) => resolveSubscriptionTier(s, catalog)?.rank ?? -Infinity;
  const live = subs.filter((s) => isCancellable(s.state) && s.revokedAt === null);
  const source = e.source?.kind === 'subscription' ? live.find((s) => e.source?.kind === 'subscription' && s.id === e.source.id) : undefined;
  const target = source ?? [...live].sort((a, b) => rank(b) - rank(a) || b.createdAt - a.createdAt)[0];
  if (target !== undefined) {
    return { kind: 'cancellable', subscriptionId: target.id, tier: resolveSubscriptionTier(target, catalog), after: computeAccessAfterCancel(target, catalog, now) };
  }
  const cancelled = subs.filter((s) => s.state === 'cancelled' && s.revokedAt === null && (s.accessUntil ?? 0) > now).sort((a, b) => (b.accessUntil ?? 0) - (a.accessUntil ?? 0))[0];
  if (cancelled !== undefined) return { kind: 'already_cancelled', subscriptionId: cancelled.id, after: accessFrom(cancelled, catalog, now) };
  if (e.tier !== null && e.source.kind === 'grant') return { kind: 'grant_only', tier: e.tier };
  return { kind: 'nothing' };
}

function keepSentence(after: AccessAfter, now: number): string {
  if (after.tier === null || (after.until !== null && after.until <= now)) return 'Your access ends now.';
  return after.until === null ? `You keep **${after.tier.name}**.` : `You keep **${after.tier.name}** until ${formatDiscordDate(after.until)}.`;
}

/** The question before the buttons. */
export function cancelPrompt(plan: Extract<CancelPlan, { kind: 'cancellable' }>, now: number): Embed {
  const name = plan.tier?.name ?? 'membership';
  return {
    title: `Cancel your ${name} subscription?`,
    description: [
      `This cancels your PayPal subscription \`${plan.subscriptionId}\`: nothing more will be charged.`,
      keepSentence(plan.after, now),
      '',
      'Confirm below, or keep your membership as it is. (These buttons work for 5 minutes.)',
    ].join('\n'),
    color: SEVERITY_COLORS.warning,
  };
}

/** The answer when there is nothing to ask. */
export function cancelRefusal(plan: Exclude<CancelPlan, { kind: 'cancellable' }>, now: number): string {
  switch (plan.kind) {
    case 'already_cancelled':
      return `Your subscription \`${plan.subscriptionId}\` is already cancelled. ${keepSentence(plan.after, now)}`;
    case 'grant_only':
      return `Your **${plan.tier.name}** access was granted by staff, not bought through PayPal, so there is nothing to cancel. Ask staff if you want it changed.`;
    case 'nothing':
      return 'You have no PayPal subscription to cancel. Use `/status` to see your membership.';
  }
}

export type CancelOutcome =
  | { kind: 'cancelled'; after: AccessAfter }
  | { kind: 'already_cancelled'; after: AccessAfter }
  /** PayPal reports a state that cannot be cancelled (expired, never approved). */
  | { kind: 'not_cancellable'; paypalStatus: string }
  /** PayPal accepted the cancellation but the re-read failed or does not show it yet; the webhook will bring it. */
  | { kind: 'accepted' }
  /** The button names a subscription that is not (or no longer) this member's. */
  | { kind: 'not_found' };

export const KEEP_TEXT = 'Nothing changed; your membership continues.';
export const EXPIRED_TEXT = 'This confirmation expired; run /cancel again.';

/** What the confirmation message becomes after Confirm. */
export function cancelOutcomeText(o: CancelOutcome, now: number): string {
  switch (o.kind) {
    case 'cancelled':
      return o.after.tier === null || (o.after.until !== null && o.after.until <= now)
        ? 'Cancelled. Nothing more will be charged and your access has ended. Use `/subscribe` whenever you want it back.'
        : `Cancelled. ${keepSentence(o.after, now)} Nothing more will be charged; use \`/subscribe\` to start again.`;
    case 'already_cancelled':
      return `This subscription was already cancelled. ${keepSentence(o.after, now)}`;
    case 'not_cancellable':
      return `PayPal reports this subscription as ${o.paypalStatus.toLowerCase()}, so there is nothing to cancel. Use \`/status\` to see your membership.`;
    case 'accepted':
      return 'PayPal accepted the cancellation. Your access end date will show in `/status` within a minute.';
    case 'not_found':
      return 'That subscription is not yours to cancel. Run `/cancel` again.';
  }
}
