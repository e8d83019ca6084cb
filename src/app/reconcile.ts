import type { ReconcileReport } from '../core/reconcile.ts';
import { ConciergeError } from '../errors.ts';
import { backfillEvents, type WebhookEventSource } from './reconcile-backfill.ts';
import { reconcileRoles, type GuildRoleReader } from './reconcile-discord.ts';
import { reconcileSubscriptions, type SubscriptionReads } from './reconcile-paypal.ts';
import { createRunContext, ReconcileStopped, type RunBase, type RunOptions } from './reconcile-run.ts';

export type { GuildRoleReader } from './reconcile-discord.ts';
export type { WebhookEventSource } from './reconcile-backfill.ts';
export type { ReconcileProgress, RunOptions } from './reconcile-run.ts';

/**
 * Reconciliation (SPEC "Operations", CLI `reconcile`): brings the store in
 * line with PayPal and Discord in line with the store, and reports every
 * difference with what it did (or, dry, would do):
 *
 * 1. events: PayPal's webhook events since the newest one seen; those that
 *    never arrived go through the normal inbox.
 * 2. paypal: every subscription that is not final is read again and applied
 *    like a webhook's fetch-on-notify.
 * 3. discord: managed roles against the stored entitlements; a role sync is
 *    queued for each member who differs.
 *
 * Events first, so a missed payment is in the inbox before its subscription
 * is compared. PayPal unreachable (after retries) stops the run there: what
 * PayPal already answered was applied, nothing is revoked for want of an
 * answer, the Discord check (which could remove roles) does not run, and the
 * report says it did not complete. So does a definite refusal (PayPal
 * rejecting the credentials, an answer that is not what its API documents).
 */

export interface ReconcileDeps extends RunBase {
  paypal: SubscriptionReads & WebhookEventSource;
  guild: GuildRoleReader;
}

export async function runReconcile(deps: ReconcileDeps, o: RunOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    dryRun: o.dryRun,
    startedAt: deps.clock(),
    finishedAt: deps.clock(),
    completed: true,
    failure: null,
    checked: { subscriptions: 0, events: 0, members: 0 },
    differences: [],
  };
  const run = createRunContext(deps, o, report);
  try {
    await backfillEvents(run, deps.paypal);
    const retiered = await reconcileSubscriptions(run, deps.paypal);
    // A dry run changed nothing: such a member's roles still match the stored entitlement, or differ and are listed.
    await reconcileRoles(run, deps.guild, o.dryRun ? new Set() : retiered);
  } catch (err) {
    // ConciergeError: a definite refusal (PayPal rejecting the credentials or the event list, a bad answer) stops the run the same way.
    if (!(err instanceof ReconcileStopped || err instanceof ConciergeError)) throw err;
    report.completed = false;
    report.failure = err instanceof ReconcileStopped ? err.message : `${err.message}; nothing was revoked`;
  }
  report.finishedAt = deps.clock();
  deps.log.info(
    { dryRun: o.dryRun, completed: report.completed, failure: report.failure, differences: report.differences.length, checked: report.checked, ms: report.finishedAt - report.startedAt },
    'reconciliation finished',
  );
  return report;
}
