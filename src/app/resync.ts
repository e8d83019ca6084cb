import { roleSyncJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { countFinishedJobs } from '../store/job-repo.ts';
import { listEntitledMemberIds } from '../store/member-repo.ts';
import type { TiersSource } from '../tiers.ts';

/** Who holds a managed role on Discord now (discord/guild-members.ts implements it). */
export interface RoleHolders {
  listManagedRoleHolders(managedRoleIds: ReadonlySet<string>): Promise<string[]>;
}

export interface Resync {
  /**
   * Re-syncs the roles of every member who holds a managed role on Discord or
   * is entitled in the store: one role-sync job each (at Discord's rate limit),
   * progress logged. Resolves once the jobs are queued.
   */
  resyncAll(): Promise<{ members: number }>;
  /** Stops logging the progress of resyncs still running (shutdown). */
  stop(): void;
}

export function createResync(d: { store: Store; tiers: TiersSource; roleHolders: RoleHolders; clock: () => number; log: Logger }): Resync {
  const progress = new Set<() => void>();
  return {
    async resyncAll() {
      const holders = await d.roleHolders.listManagedRoleHolders(d.tiers.current().managedRoleIds);
      const entitled = listEntitledMemberIds(d.store.db);
      const ids = enqueueResync(d.store, [...holders, ...entitled], d.clock());
      d.log.info({ members: ids.length, holders: holders.length, entitled: entitled.length }, 'resync queued');
      progress.add(trackResync(d.store, ids, d.log));
      return { members: ids.length };
    },
    stop() {
      for (const stop of progress) stop();
    },
  };
}

/**
 * Bulk resync: one role-sync job per member, all in one transaction. The
 * dedupe key is the member id, so a member whose sync is already queued gets
 * no second job (the queued one collapses into this one). The jobs are
 * marked `resync`: they were queued right after a full member fetch, so the
 * reconciler reads roles from the gateway cache instead of one GET each.
 *
 * Pacing is Discord's: every role change goes through discord.js, which
 * serialises the guild's member-role bucket and waits on its headers, so
 * the runner's few concurrent jobs only queue up behind each other there.
 *
 * The jobs are bulk work (roleSyncJob's priority for `resync`): a live role sync (a member who just paid) is
 * claimed before them, so it waits for at most the few already running.
 *
 * Returns the job ids (existing or new), for progress.
 */
function enqueueResync(store: Store, memberIds: Iterable<string>, now: number): number[] {
  const unique = [...new Set(memberIds)];
  return store.transaction((tx) => unique.map((memberId) => enqueue(tx, roleSyncJob, { memberId, resync: true }, now, { dedupeKey: memberId })));
}

/**
 * Logs `{ done, total }` 'resync progress' each time another ~10% of the
 * jobs has finished (done or dead), then stops. Polls the job table; the
 * returned function stops it early (service shutdown).
 */
function trackResync(store: Store, jobIds: readonly number[], log: Logger, o: { pollMs?: number } = {}): () => void {
  const total = jobIds.length;
  if (total === 0) return () => undefined;
  const step = Math.max(1, Math.ceil(total / 10));
  let logged = 0;
  const timer = setInterval(() => {
    let done: number;
    try {
      done = countFinishedJobs(store.db, jobIds);
    } catch (err) {
      log.warn({ err }, 'reading resync progress failed');
      return;
    }
    if (done >= total || done - logged >= step) {
      logged = done;
      log.info({ done, total }, 'resync progress');
    }
    if (done >= total) clearInterval(timer);
  }, o.pollMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
