import { findRoleDrift } from '../core/reconcile.ts';
import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import { listEntitlements } from '../store/member-repo.ts';
import { ReconcileStopped, type RunContext } from './reconcile-run.ts';

/**
 * Check (c), Discord drift: members holding managed roles they are not
 * entitled to, or missing the one they are. The fix is the role-sync job,
 * the one path that changes roles: it rereads the member, applies only the
 * difference, and is remembered as Concierge's own change, so the
 * manual-edit listener does not take it for a moderator's (which a REST call
 * from the CLI would be). From the CLI the running service runs the jobs.
 */

/** The guild's members and their managed roles (discord/guild-members.ts: over the gateway; discord/guild-members-rest.ts: REST, for the CLI). */
export interface GuildRoleReader {
  /**
   * Members now in the guild who hold a managed role, or are among
   * `candidates`, with the managed roles they hold (bots left out). Throws
   * when Discord cannot be read.
   */
  readManagedRoles(managedRoleIds: ReadonlySet<string>, candidates: ReadonlySet<string>): Promise<ReadonlyMap<string, readonly string[]>>;
}

const SUBSCRIPTION_SOURCE = 'subscription:';

/**
 * `settled`: members whose entitlement this run changed; their role sync is
 * queued already, so their roles are not reported a second time.
 */
export async function reconcileRoles(run: RunContext, guild: GuildRoleReader, settled: ReadonlySet<string>): Promise<void> {
  run.checkStop();
  const { store, tiers, clock } = run.base;
  const catalog = tiers.current();
  const entitlements = listEntitlements(store.db);
  let held: ReadonlyMap<string, readonly string[]>;
  try {
    held = await guild.readManagedRoles(catalog.managedRoleIds, new Set(entitlements.keys()));
  } catch (err) {
    throw new ReconcileStopped(`Discord's member list could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  run.report.checked.members = held.size;
  const tiersNow = new Map([...entitlements].map(([id, e]) => [id, e.tier]));
  const drift = findRoleDrift(held, tiersNow, catalog).filter((d) => !settled.has(d.memberId));
  run.progress('discord', held.size, held.size);
  for (const d of drift) {
    const source = entitlements.get(d.memberId)?.source ?? null;
    run.report.differences.push({
      check: 'discord',
      subscriptionId: source?.startsWith(SUBSCRIPTION_SOURCE) === true ? source.slice(SUBSCRIPTION_SOURCE.length) : null,
      memberId: d.memberId,
      difference: d.difference,
      action: run.o.dryRun ? 'would queue a role sync' : 'role sync queued',
    });
  }
  if (run.o.dryRun || drift.length === 0) return;
  const now = clock();
  // Bulk priority (resync): a live sync of a member who just paid goes first.
  store.transaction((tx) => {
    for (const d of drift) enqueue(tx, roleSyncJob, { memberId: d.memberId, resync: true }, now, { dedupeKey: d.memberId });
  });
}
