import { describeSubscriptionChange, type SubscriptionFacts } from '../core/reconcile.ts';
import type { TierCatalog } from '../core/tiers.ts';
import { isPermanent } from '../errors.ts';
import type { Store, Tx } from '../store/db.ts';
import { getMember } from '../store/member-repo.ts';
import { getSubscription, listReconcilableSubscriptionIds, type SubscriptionRow } from '../store/subscription-repo.ts';
import { applySubscription, type SubscriptionRead } from './apply-subscription.ts';
import { isNotFound, readSubscription, type PaypalReads } from './paypal-reads.ts';
import type { RunContext } from './reconcile-run.ts';
import type { MemberEffects } from './member-effects.ts';

/**
 * Check (a), PayPal drift: every subscription whose PayPal status can still
 * change is read again and applied through the same use case as a webhook's
 * fetch-on-notify (applySubscription), so a cancellation, suspension or
 * payment PayPal made without a webhook reaching us is applied now. A dry
 * run applies it too, in a transaction that is rolled back: what it reports
 * is exactly what a real run would do.
 */

export type SubscriptionReads = Pick<PaypalReads, 'getSubscription' | 'getPlan'>;

/** A checkout PayPal has not activated in this long is left to webhooks and the events backfill. */
const PENDING_HORIZON_MS = 30 * 86_400_000;
/** PayPal statuses of a checkout the buyer has not finished: nothing to apply yet (as the return page's refresh). */
const WAITING: ReadonlySet<string> = new Set(['APPROVAL_PENDING', 'APPROVED']);

/** Returns the members whose tier the run changed (their role sync is queued by the change). */
export async function reconcileSubscriptions(run: RunContext, paypal: SubscriptionReads): Promise<Set<string>> {
  const { store, clock, tiers } = run.base;
  const ids = listReconcilableSubscriptionIds(store.db, { pendingSince: clock() - PENDING_HORIZON_MS });
  const retiered = new Set<string>();
  run.progress('paypal', 0, ids.length);
  for (const [i, id] of ids.entries()) {
    let read: SubscriptionRead;
    try {
      read = await run.callPaypal(`GET subscription ${id}`, () => readSubscription(paypal, id));
    } catch (err) {
      if (!isPermanent(err)) throw err;
      // A definite answer that is not a subscription: reported for staff, and nothing changes (never "not paid").
      const memberId = getSubscription(store.db, id)?.memberId ?? null;
      const difference = isNotFound(err) ? 'PayPal does not know this subscription (404)' : `PayPal's answer could not be used: ${(err as Error).message.slice(0, 200)}`;
      run.report.differences.push({ check: 'paypal', subscriptionId: id, memberId, difference, action: 'none: left for staff' });
      continue;
    } finally {
      run.report.checked.subscriptions = i + 1;
      run.progress('paypal', i + 1, ids.length);
    }
    if (WAITING.has(read.view.status ?? 'APPROVAL_PENDING')) continue;
    const change = applyRead(run.base, read, tiers.current(), clock(), run.o.dryRun);
    if (change.difference === null) continue;
    if (change.tierChanged && change.memberId !== null) retiered.add(change.memberId);
    run.report.differences.push({
      check: 'paypal',
      subscriptionId: id,
      memberId: change.memberId,
      difference: change.difference,
      action: run.o.dryRun ? 'would apply what PayPal reports' : 'applied what PayPal reports',
    });
  }
  return retiered;
}

function factsOf(tx: Tx, row: SubscriptionRow | undefined): SubscriptionFacts | null {
  if (row === undefined) return null;
  const memberTier = row.memberId === null ? null : (getMember(tx, row.memberId)?.entitledTier ?? null);
  return { state: row.state, paypalStatus: row.paypalStatus, paidThrough: row.paidThrough, memberTier };
}

/** Applies one read, returning what changed; with `dryRun` the transaction is rolled back. */
interface AppliedRead {
  difference: string | null;
  memberId: string | null;
  tierChanged: boolean;
}

function applyRead({ store, effects }: { store: Store; effects: MemberEffects }, read: SubscriptionRead, catalog: TierCatalog, now: number, dryRun: boolean): AppliedRead {
  const apply = (tx: Tx): AppliedRead => {
    const before = factsOf(tx, getSubscription(tx, read.view.id));
    const r = applySubscription(tx, read, { catalog, effects, now, eventId: null, cause: 'found by reconciliation' });
    const after = factsOf(tx, getSubscription(tx, read.view.id));
    const difference = after === null ? null : describeSubscriptionChange(before, after, catalog);
    return { difference, memberId: r.memberId, tierChanged: after !== null && (before?.memberTier ?? null) !== after.memberTier };
  };
  return dryRun ? rollBack(store, apply) : store.transaction(apply);
}

class DryRunRollback<T> extends Error {
  constructor(readonly value: T) {
    super('dry run: rolled back');
  }
}

/** Runs fn in a transaction and rolls it back, returning fn's result: nothing it wrote or queued stays. */
function rollBack<T>(store: Store, fn: (tx: Tx) => T): T {
  try {
    store.transaction((tx) => {
      throw new DryRunRollback(fn(tx));
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.value as T;
    throw err;
  }
  throw new Error('unreachable: the dry-run transaction always rolls back');
}
