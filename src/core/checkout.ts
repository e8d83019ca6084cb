import { resolvePaidTiers, type GrantFacts, type SubscriptionFacts } from './entitlement.ts';
import type { Tier, TierCatalog } from './tiers.ts';

/**
 * What `/subscribe tier [plan]` should do for a member, decided from what the
 * store knows (pure: no PayPal call, no clock). The app layer then calls
 * PayPal for 'create' and 'change' and stores the result.
 */

/** PayPal's approve link stops working about three hours after the subscription was created. */
export const APPROVE_LINK_TTL_MS = 3 * 60 * 60 * 1000;

export interface PlanOption {
  id: string;
  name: string;
}

/** The stored subscription facts the decision reads (a subset of the store row). */
export interface CheckoutSubscription extends SubscriptionFacts {
  customId: string | null;
  approveUrl: string | null;
  nextBillingAt: number | null;
  paidThrough: number | null;
  graceUntil: number | null;
  createdAt: number;
}

export interface CheckoutRequest {
  catalog: TierCatalog;
  memberId: string;
  tierKey: string;
  /** The `plan` option as given (a plan name, any case), or null for the tier's first plan. */
  planName: string | null;
  subscriptions: readonly CheckoutSubscription[];
  grants: readonly GrantFacts[];
  now: number;
}

export type ChangeDirection = 'upgrade' | 'downgrade' | 'plan';

export type CheckoutDecision =
  | { kind: 'refused'; message: string }
  /** Already paying for this tier: renews at `renewsAt`; `pastDueUntil` set while a payment is failing. */
  | { kind: 'held-subscription'; tier: Tier; subscriptionId: string; renewsAt: number | null; pastDueUntil: number | null }
  /** A checkout for the same plan started recently: its approve link still works. */
  | { kind: 'reuse'; tier: Tier; plan: PlanOption; subscriptionId: string; approveUrl: string }
  /**
   * A live subscription for another tier (or another plan of this one): revise
   * it. `from` is the tier its plan buys now; `paidThrough` ends the period
   * already paid for (a downgrade takes effect then).
   */
  | { kind: 'change'; tier: Tier; plan: PlanOption; subscriptionId: string; from: Tier; direction: ChangeDirection; paidThrough: number | null }
  | { kind: 'create'; tier: Tier; plan: PlanOption };

const LIVE_STATES: ReadonlySet<string> = new Set(['active', 'past_due']);

/** The tier the subscription's plan bills for next. */
function planTierOf(s: CheckoutSubscription, catalog: TierCatalog): Tier | undefined {
  return catalog.byPlan(s.planId) ?? (s.tierKey === null ? undefined : catalog.byKey(s.tierKey));
}

/** The tier the member paid for (a plan revised upward but not yet paid at its price is not held). */
function tierOf(s: CheckoutSubscription, catalog: TierCatalog): Tier | undefined {
  return resolvePaidTiers(s, catalog)?.paid ?? planTierOf(s, catalog);
}

function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1] ?? ''}`;
}

/** The plan the member asked for, or why it cannot be sold. */
export function resolvePlan(tier: Tier, planName: string | null): { ok: true; plan: PlanOption } | { ok: false; message: string } {
  const options = tier.plan_options;
  const first = options[0];
  if (first === undefined) return { ok: false, message: `${tier.name} has no plan to sell right now; please tell staff.` };
  if (planName === null) return { ok: true, plan: first };
  const wanted = planName.trim().toLowerCase();
  const match = options.find((p) => p.name.toLowerCase() === wanted);
  if (match !== undefined) return { ok: true, plan: match };
  if (options.length === 1) return { ok: false, message: `${tier.name} is sold on one plan only${tier.price ? ` (${tier.price})` : ''}: run /subscribe again without the \`plan\` option.` };
  return { ok: false, message: `${tier.name} has no “${planName.trim()}” plan; choose ${listNames(options.map((p) => p.name))} (or leave \`plan\` out for ${first.name}).` };
}

export function decideCheckout(r: CheckoutRequest): CheckoutDecision {
  const { catalog } = r;
  const tier = catalog.byKey(r.tierKey);
  if (tier === undefined) {
    return { kind: 'refused', message: `There is no “${r.tierKey}” tier any more; choose ${listNames(catalog.tiers.map((t) => t.name))}.` };
  }
  const resolved = resolvePlan(tier, r.planName);
  if (!resolved.ok) return { kind: 'refused', message: resolved.message };
  const plan = resolved.plan;

  const live = r.subscriptions.filter((s) => LIVE_STATES.has(s.state) && s.revokedAt === null);
  // Held: billed for this tier next and paid for at least as much (a downgrade to it is already under way).
  const same = live.find((s) => planTierOf(s, catalog)?.key === tier.key && (tierOf(s, catalog)?.rank ?? -Infinity) >= tier.rank);
  if (same !== undefined) {
    // Asking for another plan of the tier already paid for (monthly → yearly) is a plan change.
    if (r.planName !== null && same.planId !== plan.id) {
      return { kind: 'change', tier, plan, subscriptionId: same.id, from: tier, direction: 'plan', paidThrough: same.paidThrough };
    }
    return { kind: 'held-subscription', tier, subscriptionId: same.id, renewsAt: same.nextBillingAt, pastDueUntil: same.state === 'past_due' ? same.graceUntil : null };
  }

  // A staff grant is not a payment (SPEC): a member holding the tier only through one may still start paying; the grant runs on.

  // A checkout for this plan (a new subscription or an instant upgrade) started recently: its approve link still works.
  const pending = r.subscriptions
    // An abandoned one too (the buyer left PayPal's page): its link still works, and offering it again needs no PayPal call.
    .filter((s) => (s.state === 'pending' || s.state === 'abandoned') && s.approveUrl !== null && s.customId === r.memberId && s.planId === plan.id && s.createdAt > r.now - APPROVE_LINK_TTL_MS)
    .sort((a, b) => b.createdAt - a.createdAt)[0];
  if (pending?.approveUrl != null) return { kind: 'reuse', tier, plan, subscriptionId: pending.id, approveUrl: pending.approveUrl };

  // One subscription per member: moving an existing one to another tier, rather than a second one billing alongside it.
  let current: { sub: CheckoutSubscription; tier: Tier } | undefined;
  for (const s of live) {
    const t = tierOf(s, catalog);
    if (t !== undefined && (current === undefined || t.rank > current.tier.rank)) current = { sub: s, tier: t };
  }
  if (current !== undefined) {
    return {
      kind: 'change',
      tier,
      plan,
      subscriptionId: current.sub.id,
      from: current.tier,
      // Judged against the tier paid for: undoing a downgrade still within the paid period is a plan change, not an upgrade to pay for.
      direction: tier.rank > current.tier.rank ? 'upgrade' : tier.rank < current.tier.rank ? 'downgrade' : 'plan',
      paidThrough: current.sub.paidThrough,
    };
  }

  return { kind: 'create', tier, plan };
}

/** What /subscribe ends with, once PayPal answered where it had to be asked. */
export type CheckoutOutcome =
  | Extract<CheckoutDecision, { kind: 'refused' | 'held-subscription' }>
  | { kind: 'checkout'; tier: Tier; plan: PlanOption; approveUrl: string; reused: boolean }
  /** `approveUrl` null: PayPal applied the revision without asking the buyer. */
  | { kind: 'changing'; tier: Tier; plan: PlanOption; from: Tier; direction: ChangeDirection; paidThrough: number | null; approveUrl: string | null }
  /** An instant upgrade: `fee` charged at approval for the higher tier until `startsAt`, then `price` (e.g. "49.99 USD / month"). */
  | { kind: 'upgrading'; tier: Tier; plan: PlanOption; from: Tier; fee: string; currency: string; startsAt: number; price: string; approveUrl: string; reused: boolean };


