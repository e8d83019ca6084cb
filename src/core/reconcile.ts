import { desiredManagedRoles, diffRoles } from './role-diff.ts';
import { DAY_MS } from './time.ts';
import type { TierCatalog } from './tiers.ts';

/**
 * Reconciliation's decisions, pure: what counts as a difference between the
 * store and PayPal or Discord, and what the run reports. The run itself
 * (reading PayPal and Discord, applying) is app/reconcile*.ts.
 */

export type ReconcileCheck = 'paypal' | 'events' | 'discord';

/** One difference found, with what the run did about it (or, dry, would do). */
export interface Difference {
  check: ReconcileCheck;
  subscriptionId: string | null;
  memberId: string | null;
  /** What differs, e.g. "state active → cancelled; tier Elite → none". */
  difference: string;
  action: string;
}

export interface ReconcileReport {
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  /** False when a check could not run to its end; `failure` says why. */
  completed: boolean;
  failure: string | null;
  /** How much each check looked at. */
  checked: { subscriptions: number; events: number; members: number };
  differences: Difference[];
}

/** What reconciliation compares of a subscription before and after PayPal's answer is applied. */
export interface SubscriptionFacts {
  state: string;
  paypalStatus: string;
  paidThrough: number | null;
  /** The member's entitled tier key (null: none, or no member). */
  memberTier: string | null;
}

const tierName = (catalog: TierCatalog, key: string | null) => (key === null ? 'none' : (catalog.byKey(key)?.name ?? key));
const day = (t: number | null) => (t === null ? 'none' : new Date(t).toISOString().slice(0, 10));

/**
 * What changed when PayPal's answer was applied, or null when nothing a
 * person would care about did (PayPal's update time alone is not drift).
 * `before` null: the store did not hold the subscription.
 */
export function describeSubscriptionChange(before: SubscriptionFacts | null, after: SubscriptionFacts, catalog: TierCatalog): string | null {
  if (before === null) return `not in the store; PayPal reports ${after.paypalStatus} (state ${after.state}, tier ${tierName(catalog, after.memberTier)})`;
  const parts: string[] = [];
  if (before.paypalStatus !== after.paypalStatus) parts.push(`PayPal ${before.paypalStatus} → ${after.paypalStatus}`);
  if (before.state !== after.state) parts.push(`state ${before.state} → ${after.state}`);
  if (before.paidThrough !== after.paidThrough) parts.push(`paid through ${day(before.paidThrough)} → ${day(after.paidThrough)}`);
  if (before.memberTier !== after.memberTier) parts.push(`tier ${tierName(catalog, before.memberTier)} → ${tierName(catalog, after.memberTier)}`);
  return parts.length === 0 ? null : parts.join('; ');
}

/** A member whose managed roles on Discord differ from their stored entitlement. */
export interface RoleDrift {
  memberId: string;
  add: string[];
  remove: string[];
  difference: string;
}

/**
 * Members holding managed roles they are not entitled to, or missing the one
 * they are. `held`: guild members (in the guild now) with the managed roles
 * they hold, covering every entitled member who is in the guild; an entitled
 * member who is not in the guild is not drift (their role follows when they
 * join). In member id order.
 */
export function findRoleDrift(held: ReadonlyMap<string, readonly string[]>, entitled: ReadonlyMap<string, string>, catalog: TierCatalog): RoleDrift[] {
  const roleName = (roleId: string) => catalog.tiers.find((t) => t.role_id === roleId)?.name ?? roleId;
  const out: RoleDrift[] = [];
  for (const [memberId, roles] of held) {
    const tier = entitled.get(memberId) ?? null;
    const diff = diffRoles(roles, desiredManagedRoles(tier, catalog), catalog.managedRoleIds);
    if (diff.add.length === 0 && diff.remove.length === 0) continue;
    const parts = [
      ...(diff.remove.length > 0 ? [`holds ${diff.remove.map(roleName).join(', ')}`] : []),
      ...(diff.add.length > 0 ? [`lacks ${diff.add.map(roleName).join(', ')}`] : []),
    ];
    out.push({ memberId, add: diff.add, remove: diff.remove, difference: `${parts.join(', ')}; entitled to ${tierName(catalog, tier)}` });
  }
  return out.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

/**
 * How far back the first backfill looks, when no event has been seen yet.
 * PayPal keeps retrying a delivery for 3 days; what this recovers is what it
 * gave up on, or never sent here (a wrong webhook URL), over the last month.
 */
export const FIRST_BACKFILL_LOOKBACK_MS = 30 * DAY_MS;
/**
 * Each window starts this long before the newest event seen: an event
 * created shortly before the last run may have been listed only after it.
 * Dedupe by event id makes the overlap free.
 */
export const BACKFILL_OVERLAP_MS = 60 * 60_000;

/** The `start_time`/`end_time` window of a backfill: since the newest event seen (with the overlap), up to now. */
export function backfillWindow(newestSeen: number | null, now: number): { start: number; end: number } {
  const start = newestSeen === null ? now - FIRST_BACKFILL_LOOKBACK_MS : Math.max(now - FIRST_BACKFILL_LOOKBACK_MS, newestSeen - BACKFILL_OVERLAP_MS);
  return { start: Math.min(start, now), end: now };
}

/** Differences by check, for the summary line and the metrics. */
export function countDifferences(report: Pick<ReconcileReport, 'differences'>): Record<ReconcileCheck, number> {
  const counts: Record<ReconcileCheck, number> = { paypal: 0, events: 0, discord: 0 };
  for (const d of report.differences) counts[d.check] += 1;
  return counts;
}
