import { marketplaceMemberJob, marketplacePublisherJob } from '../jobs/definitions.ts';
import { enqueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/db.ts';
import { bumpMemberMarketplaceVersion, getPublisherProfile, listMembersBehindMarketplace } from '../store/marketplace-repo.ts';

/**
 * Brings the marketplace level with the store when the sync is on (SPEC
 * "Marketplace contract"). A community that configures MARKETPLACE_API_URL
 * after running without it, or turns it back on after a while, has members
 * the marketplace never heard of or holds an older state of: changes made
 * while the sync was off bumped their version but queued nothing. At start,
 * each such member gets one marketplace-member job, queued as bulk work so
 * live changes go first, and the job sends the member's state as it is then.
 *
 * Idempotent across restarts: the job's dedupe key is the member id, so a job
 * still queued from an earlier start absorbs the new one, and a member whose
 * state the marketplace acknowledged (members.marketplace_synced_version) is
 * no longer behind. A member the marketplace refused (a 4xx other than 429,
 * dead-lettered with an audit entry) is tried once more at each start. The
 * publisher profile, when there is one, is sent once per start: one PUT, and
 * the marketplace ignores a version it holds already.
 */

/**
 * Members per transaction. Measured on the 2-core dev machine at load average
 * ~20 (bench/commands-seed.ts's 100,000 members, 64,795 of them with a tier
 * or serials): 0.39 ms a member (version bump + job insert), 25 s in all,
 * whether in one transaction or in batches. One transaction would hold the
 * write lock and the event loop for those 25 s; batches of 1,000 for 375 ms
 * each (1.5 s at worst). 250 keeps each under ~100 ms, a webhook's wait at most.
 */
export const BACKFILL_BATCH = 250;

/** Queues the sync of up to `limit` members behind after `afterId`, in one transaction. Returns the last member id seen (null: none left) and how many were queued. */
export function queueMarketplaceBackfill(store: Store, afterId: string, limit: number, now: number): { lastId: string | null; queued: number } {
  return store.transaction((tx) => {
    const behind = listMembersBehindMarketplace(tx, afterId, limit);
    for (const m of behind) {
      // Never versioned (0): the marketplace must see a version above anything it could hold for this member.
      if (m.version === 0) bumpMemberMarketplaceVersion(tx, m.memberId, now);
      enqueue(tx, marketplaceMemberJob, { memberId: m.memberId, bulk: true }, now, { dedupeKey: m.memberId });
    }
    return { lastId: behind.at(-1)?.memberId ?? null, queued: behind.length };
  });
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The service's backfill: runs once, in the background, one batch per
 * event-loop turn, so neither the start nor a webhook waits more than one
 * batch. A failure is logged, not thrown: the members stay behind and the
 * next start tries again. `done` resolves with how many members were queued.
 */
export function startMarketplaceBackfill(deps: { store: Store; clock: () => number; log: Logger }): { stop(): void; done: Promise<number> } {
  let stopped = false;
  const run = async (): Promise<number> => {
    let total = 0;
    try {
      deps.store.transaction((tx) => {
        if (getPublisherProfile(tx) !== undefined) enqueue(tx, marketplacePublisherJob, {}, deps.clock(), { dedupeKey: 'publisher' });
      });
      for (let after: string | null = ''; after !== null && !stopped; ) {
        await yieldToEventLoop();
        if (stopped) break;
        const batch = queueMarketplaceBackfill(deps.store, after, BACKFILL_BATCH, deps.clock());
        total += batch.queued;
        after = batch.lastId;
      }
      if (total > 0) deps.log.info({ members: total }, 'marketplace backfill: members the marketplace is behind on are queued for sync');
    } catch (err) {
      deps.log.error({ err, queued: total }, 'marketplace backfill stopped; the members left are tried at the next start');
    }
    return total;
  };
  const done = run();
  return { stop: () => void (stopped = true), done };
}
